// SIMT emulator: instrumented memory operations (emu_mem.h). State is per OS thread (one block at a
// time runs on it): a shadow word per 4 B of dynamic shared memory for the cp.async checks, each thread's
// copies in flight, and, when counting, each thread's access log, folded into warp requests
// (emu_count.cpp) at every barrier release and at block end.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "emu_block.h"
#include "emu_core.h"
#include "emu_count.h"
#include "emu_counters.h"
#include "emu_mem.h"

namespace dd::simt::emu {

std::atomic<bool> g_counting{false};

namespace {

enum : uint8_t { kNone = 0, kPending = 1, kLanded = 2 };
constexpr uint16_t kManyReaders = 0xFFFF;

// One per 4 B of dynamic shared memory; valid only when gen matches the block's (no clearing per block).
struct Word {
    uint32_t gen;
    uint32_t read_epoch;
    uint32_t land_epoch;
    uint16_t reader;
    uint16_t owner;  // thread whose cp.async is in flight (kPending) or landed (kLanded) here
    uint8_t state;
};

struct Copy {
    unsigned char* dst;
    unsigned char data[16];
    uint8_t bytes;
    uint32_t group;
    const char* file;
    int line;
};

struct ThreadAsync {
    std::vector<Copy> copies;  // issued, not landed
    uint32_t committed = 0;    // groups committed so far; the open group has this number
};

struct MemState {
    std::vector<Word> shadow;
    uint32_t gen = 0;
    std::vector<ThreadAsync> async;
    std::vector<std::vector<Access>> log;
    unsigned n = 0;
    bool counting = false;
    Counters c;
};

std::mutex g_registry_mu;
std::vector<MemState*>* g_registry = new std::vector<MemState*>;  // reachable: no leak reports
thread_local MemState* tl_mem = nullptr;

MemState& mem() {
    if (!tl_mem) {
        tl_mem = new MemState;
        std::lock_guard<std::mutex> lk(g_registry_mu);
        g_registry->push_back(tl_mem);
    }
    return *tl_mem;
}

const char* base_name(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}

unsigned me() { return tl_thread->linear; }
uint32_t epoch() { return tl_block->epoch; }

// The shadow word of p when p lies in the block's dynamic shared memory, else null.
Word* shadow_of(MemState& M, const void* p) {
    const BlockView& B = *tl_block;
    const uintptr_t a = reinterpret_cast<uintptr_t>(p), base = reinterpret_cast<uintptr_t>(B.dyn_smem);
    if (a < base || a >= base + B.dyn_smem_bytes) return nullptr;
    Word* w = &M.shadow[(a - base) / 4];
    if (w->gen != M.gen) *w = Word{M.gen, ~0u, ~0u, 0, 0, kNone};
    return w;
}
size_t smem_offset(const void* p) {
    return (size_t)(reinterpret_cast<uintptr_t>(p) - reinterpret_cast<uintptr_t>(tl_block->dyn_smem));
}

const Copy* find_copy(MemState& M, unsigned owner, const void* p) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (const Copy& c : M.async[owner].copies)
        if (b >= c.dst && b < c.dst + c.bytes) return &c;
    return nullptr;
}

void check_read(MemState& M, const void* p, unsigned bytes, unsigned reader, const char* what, const char* file,
                int line) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (unsigned o = 0; o < bytes; o += 4) {
        Word* w = shadow_of(M, b + o);
        if (!w) return;
        if (w->state == kPending) {
            const Copy* c = find_copy(M, w->owner, b + o);
            kernel_fail("%s at %s:%d (thread %u) reads shared memory byte %zu while the cp.async of thread %u into "
                        "it (issued at %s:%d) is in flight: its group was not waited for (cp.async.wait_group)",
                        what, base_name(file), line, reader, smem_offset(b + o), w->owner,
                        c ? base_name(c->file) : "?", c ? c->line : 0);
        }
        if (w->state == kLanded && w->owner != reader && w->land_epoch == epoch())
            kernel_fail("%s at %s:%d (thread %u) reads shared memory byte %zu that the cp.async of thread %u filled "
                        "with no __syncthreads since its wait_group (wait_group covers the waiting thread's own "
                        "copies only)",
                        what, base_name(file), line, reader, smem_offset(b + o), w->owner);
        if (w->read_epoch != epoch()) {
            w->read_epoch = epoch();
            w->reader = (uint16_t)reader;
        } else if (w->reader != reader) {
            w->reader = kManyReaders;
        }
    }
}

// war: also fail on a word another thread read since the last __syncthreads (cp.async only: plain stores
// may follow a __syncwarp, which orders a warp-private buffer without a block barrier).
void check_write(MemState& M, const void* p, unsigned bytes, unsigned writer, bool war, const char* what,
                 const char* file, int line) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (unsigned o = 0; o < bytes; o += 4) {
        Word* w = shadow_of(M, b + o);
        if (!w) return;
        if (war && w->read_epoch == epoch() && w->reader != writer)
            kernel_fail("%s at %s:%d (thread %u) overwrites shared memory byte %zu that %s read since the last "
                        "__syncthreads: the buffer is still being read in the previous stage",
                        what, base_name(file), line, writer, smem_offset(b + o),
                        w->reader == kManyReaders ? "other threads" : format("thread %u", w->reader).c_str());
        if (w->state == kPending)
            kernel_fail("%s at %s:%d (thread %u) writes shared memory byte %zu while a cp.async of thread %u into it "
                        "is in flight",
                        what, base_name(file), line, writer, smem_offset(b + o), w->owner);
    }
}

void land(MemState& M, Copy& c, unsigned owner) {
    memcpy(c.dst, c.data, c.bytes);
    for (unsigned o = 0; o < c.bytes; o += 4)
        if (Word* w = shadow_of(M, c.dst + o)) {
            w->state = kLanded;
            w->owner = (uint16_t)owner;
            w->land_epoch = epoch();
        }
}

void log_access(MemState& M, AccessKind kind, const void* p, unsigned bytes, const char* file, int line) {
    M.log[me()].push_back(Access{file, line, reinterpret_cast<uintptr_t>(p), (uint8_t)bytes, (uint8_t)kind});
}

}  // namespace

// ---- block hooks (emu_block.h) ------------------------------------------------------------------------

void mem_block_begin(unsigned nthreads, size_t smem_bytes) {
    MemState& M = mem();
    M.n = nthreads;
    if (++M.gen == 0) {  // wrapped: old entries could look current
        for (Word& w : M.shadow) w.gen = 0;
        M.gen = 1;
    }
    if (M.shadow.size() < (smem_bytes + 3) / 4) M.shadow.resize((smem_bytes + 3) / 4, Word{0, 0, 0, 0, 0, kNone});
    if (M.async.size() < nthreads) M.async.resize(nthreads);
    for (unsigned i = 0; i < nthreads; ++i) {
        M.async[i].copies.clear();
        M.async[i].committed = 0;
    }
    M.counting = g_counting.load(std::memory_order_relaxed);
    if (M.counting) {
        if (M.log.size() < nthreads) M.log.resize(nthreads);
        for (unsigned i = 0; i < nthreads; ++i) M.log[i].clear();
        M.c = Counters{};
    }
}

void mem_barrier_release() {
    MemState& M = mem();
    if (M.counting) {
        fold_logs(M.c, M.log.data(), M.n);
        M.c.barriers += 1;
    }
}

void mem_thread_exit(unsigned linear) {
    MemState& M = mem();
    for (Copy& c : M.async[linear].copies) land(M, c, linear);
    M.async[linear].copies.clear();
}

bool mem_block_end(Counters* out) {
    MemState& M = mem();
    if (!M.counting) return false;
    fold_logs(M.c, M.log.data(), M.n);
    M.c.blocks = 1;
    *out = M.c;
    return true;
}

void mem_count_collective(int counter) {
    MemState& M = mem();
    if (!M.counting) return;
    switch (counter) {
        case kCountMmaBf16: M.c.mma_bf16 += 1; M.c.mma_flops += 2.0 * 16 * 8 * 16; break;
        case kCountMmaF16: M.c.mma_f16 += 1; M.c.mma_flops += 2.0 * 16 * 8 * 16; break;
        case kCountMmaTf32: M.c.mma_tf32 += 1; M.c.mma_flops += 2.0 * 16 * 8 * 8; break;
        default: break;
    }
}

// ---- kernel-side operations (emu_mem.h) ---------------------------------------------------------------

void smem_access(AccessKind kind, const void* p, unsigned bytes, const char* file, int line) {
    MemState& M = mem();
    if (kind == kSmemLoad) check_read(M, p, bytes, me(), "ld_shared", file, line);
    else check_write(M, p, bytes, me(), false, "st_shared", file, line);
    if (M.counting) log_access(M, kind, p, bytes, file, line);
}

void global_access(AccessKind kind, const void* p, unsigned bytes, const char* file, int line) {
    MemState& M = mem();
    if (M.counting) log_access(M, kind, p, bytes, file, line);
}

void cp_async(void* dst, const void* src, unsigned bytes, unsigned src_bytes, bool cg, const char* file, int line) {
    MemState& M = mem();
    const uintptr_t d = reinterpret_cast<uintptr_t>(dst), s = reinterpret_cast<uintptr_t>(src);
    if (d % bytes || s % bytes)
        kernel_fail("cp.async of %u bytes at %s:%d: shared %p / global %p not %u-byte aligned", bytes,
                    base_name(file), line, dst, src, bytes);
    if (src_bytes > bytes)
        kernel_fail("cp.async at %s:%d: source size %u exceeds the copy size %u", base_name(file), line, src_bytes,
                    bytes);
    const unsigned t = me();
    check_write(M, dst, bytes, t, true, "cp.async", file, line);
    Copy c{static_cast<unsigned char*>(dst), {0}, (uint8_t)bytes, M.async[t].committed, file, line};
    memcpy(c.data, src, src_bytes);  // the rest stays zero (zero-fill of predicated copies)
    M.async[t].copies.push_back(c);
    for (unsigned o = 0; o < bytes; o += 4)
        if (Word* w = shadow_of(M, c.dst + o)) {
            w->state = kPending;
            w->owner = (uint16_t)t;
        }
    if (M.counting) {
        M.c.cp_async_4 += bytes == 4;
        M.c.cp_async_8 += bytes == 8;
        M.c.cp_async_16 += bytes == 16;
        M.c.cp_async_cg += cg;
        if (src_bytes > 0) log_access(M, kGlobalLoad, src, src_bytes, file, line);
        log_access(M, kSmemStore, dst, bytes, file, line);
    }
}

void cp_async_commit() {
    MemState& M = mem();
    ++M.async[me()].committed;
    if (M.counting) M.c.cp_async_commits += 1;
}

void cp_async_wait(int allowed) {
    MemState& M = mem();
    const unsigned t = me();
    ThreadAsync& A = M.async[t];
    if (M.counting) M.c.cp_async_waits += 1;
    // Groups numbered below committed - allowed complete; the open (uncommitted) group never does.
    const int64_t done_below = (int64_t)A.committed - allowed;
    size_t keep = 0;
    for (size_t i = 0; i < A.copies.size(); ++i) {
        if ((int64_t)A.copies[i].group < done_below) land(M, A.copies[i], t);
        else A.copies[keep++] = A.copies[i];
    }
    A.copies.resize(keep);
}

void ldmatrix_lane(const void* row, const char* file, int line) {
    check_read(mem(), row, 16, me(), "ldmatrix", file, line);
}

void ldmatrix_count(const void* const* rows, int nrows, bool trans) {
    MemState& M = mem();
    if (!M.counting) return;
    uintptr_t addr[32] = {0};
    uint8_t bytes[32] = {0};
    bool active[32] = {false};
    for (int r = 0; r < nrows; ++r) {
        addr[r] = reinterpret_cast<uintptr_t>(rows[r]);
        bytes[r] = 16;
        active[r] = true;
    }
    count_smem_request(M.c, addr, bytes, active, nrows, 8);
    M.c.ldmatrix_x1 += nrows == 8;
    M.c.ldmatrix_x2 += nrows == 16;
    M.c.ldmatrix_x4 += nrows == 32;
    M.c.ldmatrix_trans += trans;
}

}  // namespace dd::simt::emu
