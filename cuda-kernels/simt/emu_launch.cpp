// SIMT emulator launches: configuration checks as a GPU makes them, the schedule switch, and a
// pool of OS threads that take a launch's blocks one at a time (emu_block.cpp runs each block).
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "emu_api.h"
#include "emu_block.h"
#include "emu_core.h"
#include "emu_counters.h"
#include "emu_mem.h"

namespace dd::simt::emu {
namespace {

constexpr size_t kDefaultSmemLimit = 48 * 1024;
constexpr size_t kOptInSmemLimit = 163 * 1024;  // sm_80's opt-in maximum: kernels must fit both targets

struct Launch {
    BlockJob job;
    uint64_t nblocks;
    bool counting = false;
    std::vector<uint64_t> pick;   // sampled: the block numbers run (else all of 0..nblocks-1)
    std::vector<double> weight;   // sampled: how many blocks each stands for
    Counters sampled, whole;
    std::atomic<uint64_t> next{0};
    std::atomic<bool> failed{false};
    std::mutex mu;
    std::string error;  // first failure
};

// Runs blocks of L on the calling OS thread until none is left or one failed.
void work(Launch& L) {
    std::string error;
    while (!L.failed.load(std::memory_order_relaxed)) {
        const uint64_t i = L.next.fetch_add(1);
        if (i >= L.nblocks) break;
        Counters c;
        const bool ok = run_block(L.job, L.pick.empty() ? i : L.pick[i], &error, L.counting ? &c : nullptr);
        if (L.counting) {
            std::lock_guard<std::mutex> lk(L.mu);
            L.sampled.add(c, 1.0);
            L.whole.add(c, L.weight.empty() ? 1.0 : L.weight[i]);
        }
        if (!ok) {
            std::lock_guard<std::mutex> lk(L.mu);
            if (!L.failed.exchange(true)) L.error = error;
        }
    }
}

// Persistent helper threads; the launching thread works too. Never destroyed: threads block on
// its condition variable until the process exits.
struct Pool {
    std::mutex mu;
    std::condition_variable cv, done_cv;
    std::vector<std::thread> threads;
    Launch* job = nullptr;
    uint64_t gen = 0;
    int want = 0, active = 0;

    void loop(int idx) {
        uint64_t seen = 0;
        for (;;) {
            std::unique_lock<std::mutex> lk(mu);
            cv.wait(lk, [&] { return gen != seen; });
            seen = gen;
            if (idx >= want) continue;
            Launch* L = job;
            lk.unlock();
            work(*L);
            lk.lock();
            if (--active == 0) done_cv.notify_all();
        }
    }
    void run(Launch& L, int helpers) {
        {
            std::lock_guard<std::mutex> lk(mu);
            while ((int)threads.size() < helpers) {
                const int idx = (int)threads.size();
                threads.emplace_back([this, idx] { loop(idx); });
                threads.back().detach();
            }
            job = &L;
            want = helpers;
            active = helpers;
            ++gen;
        }
        cv.notify_all();
        work(L);
        std::unique_lock<std::mutex> lk(mu);
        done_cv.wait(lk, [&] { return active == 0; });
    }
};
Pool* g_pool = new Pool;

std::mutex g_launch_mu;  // one launch at a time, like a single in-order stream
std::mutex g_attr_mu;
std::map<const void*, int>* g_max_smem = new std::map<const void*, int>;
std::atomic<int> g_override{-1};
thread_local std::string tl_last_detail;
thread_local cudaError_t tl_last_code = cudaSuccess;

bool parse_schedule(const char* e, Schedule& out) {
    if (!e || !*e || !strcmp(e, "forward")) out = Schedule::kForward;
    else if (!strcmp(e, "reverse")) out = Schedule::kReverse;
    else if (!strcmp(e, "random")) out = Schedule::kRandom;
    else return false;
    return true;
}

// DYNDIT_EMU_SEED fixes the random schedule of every launch to the seed a failure report printed;
// without it each launch draws its own.
uint64_t launch_seed() {
    const char* e = getenv("DYNDIT_EMU_SEED");
    if (e && *e) return (uint64_t)strtoull(e, nullptr, 0);
    static const uint64_t base = ((uint64_t)std::random_device{}() << 32) ^ std::random_device{}();
    static std::atomic<uint64_t> counter{0};
    return base + 0x9E3779B97F4A7C15ull * counter.fetch_add(1);
}

// The kernel name is the first top-level argument of the dd_launch text.
std::string kernel_name(const char* text) {
    std::string s;
    int depth = 0;
    for (const char* p = text; *p; ++p) {
        if (*p == '<' || *p == '(') ++depth;
        if (*p == '>' || *p == ')') --depth;
        if (*p == ',' && depth == 0) break;
        if (*p != ' ' && *p != '&') s += *p;
    }
    return s;
}

// Counting (emu_counters.h): records of the launches since counting_start.
std::mutex g_count_mu;
bool g_sample = false;
std::vector<LaunchRecord>* g_records = new std::vector<LaunchRecord>;

// Sampling: per dimension of size n the first block, one interior block standing for the n-2 interior
// ones, and the last block; every combination over x, y, z.
void sample_blocks(const dim3 g, std::vector<uint64_t>& pick, std::vector<double>& weight) {
    auto reps = [](unsigned n) {
        std::vector<std::pair<unsigned, double>> r{{0u, 1.0}};
        if (n >= 3) r.push_back({n / 2, (double)(n - 2)});
        if (n >= 2) r.push_back({n - 1, 1.0});
        return r;
    };
    for (const auto& z : reps(g.z))
        for (const auto& y : reps(g.y))
            for (const auto& x : reps(g.x)) {
                pick.push_back(x.first + (uint64_t)g.x * (y.first + (uint64_t)g.y * z.first));
                weight.push_back(x.second * y.second * z.second);
            }
}

cudaError_t fail_launch(const LaunchSpec& s, cudaError_t code, const std::string& why) {
    tl_last_detail = format("kernel %s: %s", kernel_name(s.text).c_str(), why.c_str());
    tl_last_code = code;
    return code;
}
}  // namespace

// ---- host-side API (emu_api.h) ---------------------------------------------------------------------

const char* schedule_name(Schedule s) {
    switch (s) {
        case Schedule::kReverse: return "reverse";
        case Schedule::kRandom: return "random";
        default: return "forward";
    }
}

Schedule current_schedule() {
    const int o = g_override.load();
    if (o >= 0) return (Schedule)o;
    Schedule s = Schedule::kForward;
    parse_schedule(getenv("DYNDIT_EMU_SCHEDULE"), s);
    return s;
}

void set_schedule_override(const Schedule* s) { g_override.store(s ? (int)*s : -1); }

const char* last_error_detail() { return tl_last_detail.c_str(); }
cudaError_t last_error_code() { return tl_last_code; }

void set_max_dynamic_smem(const void* kernel, int bytes) {
    std::lock_guard<std::mutex> lk(g_attr_mu);
    (*g_max_smem)[kernel] = bytes;
}

int worker_count() {
    static const int n = [] {
        const char* e = getenv("DYNDIT_EMU_THREADS");
        int v = e && *e ? atoi(e) : (int)std::thread::hardware_concurrency();
        return std::max(1, v);
    }();
    return n;
}

namespace {
thread_local bool tl_capturing = false;
thread_local std::vector<GraphNode> tl_nodes;
}  // namespace

bool capturing() { return tl_capturing; }

cudaError_t begin_capture() {
    if (tl_capturing) return cudaErrorIllegalState;
    tl_capturing = true;
    tl_nodes.clear();
    return cudaSuccess;
}

cudaError_t end_capture(std::vector<GraphNode>* nodes) {
    if (!tl_capturing) return cudaErrorIllegalState;
    tl_capturing = false;
    *nodes = std::move(tl_nodes);
    tl_nodes.clear();
    return cudaSuccess;
}

void record(GraphNode node) { tl_nodes.push_back(std::move(node)); }

cudaError_t check_launch(const LaunchSpec& s) {
    tl_last_detail.clear();
    tl_last_code = cudaSuccess;
    if (in_kernel()) return fail_launch(s, cudaErrorNotSupported, "launching from inside a kernel is not emulated");
    const dim3 g = s.grid, d = s.block;
    const uint64_t threads = (uint64_t)d.x * d.y * d.z;
    if (threads == 0 || threads > 1024 || d.x > 1024 || d.y > 1024 || d.z > 64 || g.x == 0 || g.y == 0 ||
        g.z == 0 || g.x > 0x7FFFFFFFu || g.y > 65535 || g.z > 65535)
        return fail_launch(s, cudaErrorInvalidConfiguration,
                           format("invalid configuration grid (%u,%u,%u) block (%u,%u,%u)", g.x, g.y, g.z, d.x, d.y,
                                  d.z));
    if (s.dyn_smem > kDefaultSmemLimit) {
        int limit = 0;
        {
            std::lock_guard<std::mutex> lk(g_attr_mu);
            auto it = g_max_smem->find(s.kernel);
            if (it != g_max_smem->end()) limit = it->second;
        }
        if (s.dyn_smem > (size_t)limit || s.dyn_smem > kOptInSmemLimit)
            return fail_launch(s, cudaErrorInvalidValue,
                               format("%zu bytes of dynamic shared memory exceed the limit (%zu default, up to %zu "
                                      "after cudaFuncSetAttribute(MaxDynamicSharedMemorySize); set: %d)",
                                      s.dyn_smem, kDefaultSmemLimit, kOptInSmemLimit, limit));
    }
    return cudaSuccess;
}

cudaError_t launch(const LaunchSpec& s) {
    if (cudaError_t e = check_launch(s)) return e;
    const dim3 g = s.grid, d = s.block;
    const uint64_t threads = (uint64_t)d.x * d.y * d.z;
    Schedule sched = Schedule::kForward;
    if (g_override.load() >= 0) sched = (Schedule)g_override.load();
    else if (!parse_schedule(getenv("DYNDIT_EMU_SCHEDULE"), sched))
        return fail_launch(s, cudaErrorInvalidValue,
                           format("DYNDIT_EMU_SCHEDULE=%s: expected forward, reverse or random",
                                  getenv("DYNDIT_EMU_SCHEDULE")));

    std::lock_guard<std::mutex> lk(g_launch_mu);
    Launch L;
    L.job = BlockJob{&s, (unsigned)threads, sched, launch_seed()};
    L.nblocks = (uint64_t)g.x * g.y * g.z;
    const uint64_t blocks_total = L.nblocks;
    L.counting = g_counting.load();
    if (L.counting && g_sample) {
        sample_blocks(g, L.pick, L.weight);
        L.nblocks = L.pick.size();
    }
    const int helpers = (int)std::min<uint64_t>((uint64_t)worker_count(), L.nblocks) - 1;
    if (helpers <= 0) work(L);
    else g_pool->run(L, helpers);
    if (L.counting) {
        std::lock_guard<std::mutex> clk(g_count_mu);
        LaunchRecord r;
        r.kernel = kernel_name(s.text);
        r.grid = g;
        r.block = d;
        r.dyn_smem = s.dyn_smem;
        r.blocks_total = blocks_total;
        r.blocks_emulated = L.nblocks;
        r.sampled = L.sampled;
        r.whole = L.whole;
        g_records->push_back(std::move(r));
    }
    if (L.failed.load())
        return fail_launch(s, cudaErrorLaunchFailure,
                           format("%s [schedule %s, seed 0x%llx]", L.error.c_str(), schedule_name(L.job.schedule),
                                  (unsigned long long)L.job.seed));
    return cudaSuccess;
}

void counting_start(bool sample) {
    std::lock_guard<std::mutex> lk(g_launch_mu);  // never while a launch runs
    std::lock_guard<std::mutex> clk(g_count_mu);
    g_records->clear();
    g_sample = sample;
    g_counting.store(true);
}

std::vector<LaunchRecord> counting_stop() {
    std::lock_guard<std::mutex> lk(g_launch_mu);
    std::lock_guard<std::mutex> clk(g_count_mu);
    g_counting.store(false);
    std::vector<LaunchRecord> out;
    out.swap(*g_records);
    return out;
}

}  // namespace dd::simt::emu
