// Profiler ranges: NVTX push/pop when the library has CUDA (Nsight Systems shows the forward's stages; NVTX
// costs nothing without a profiler attached), plus an optional in-process count for tests and traces.
#include <atomic>
#include <cstdint>

#include "dyndit/dyndit.h"

#if defined(DYNDIT_NVTX)
#include <nvtx3/nvToolsExt.h>
#endif

namespace {
std::atomic<bool> g_record{false};
std::atomic<int64_t> g_count{0};
std::atomic<int> g_max_depth{0};
thread_local int t_depth = 0;
}  // namespace

extern "C" {

void dd_range_push(const char* name) {
#if defined(DYNDIT_NVTX)
    nvtxRangePushA(name ? name : "");
#else
    (void)name;
#endif
    ++t_depth;
    if (g_record.load(std::memory_order_relaxed)) {
        g_count.fetch_add(1, std::memory_order_relaxed);
        int seen = g_max_depth.load(std::memory_order_relaxed);
        while (t_depth > seen && !g_max_depth.compare_exchange_weak(seen, t_depth)) {
        }
    }
}

void dd_range_pop(void) {
    if (t_depth == 0) return;  // unbalanced pop: ignored rather than corrupting the profiler's stack
    --t_depth;
#if defined(DYNDIT_NVTX)
    nvtxRangePop();
#endif
}

void dd_range_record(int on) {
    if (on) {
        g_count.store(0);
        g_max_depth.store(0);
    }
    g_record.store(on != 0);
}

int64_t dd_range_count(void) { return g_count.load(); }
int dd_range_max_depth(void) { return g_max_depth.load(); }
int dd_range_depth(void) { return t_depth; }

}  // extern "C"
