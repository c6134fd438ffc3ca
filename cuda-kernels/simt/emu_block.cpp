// SIMT emulator, one block: the block's threads are fibers on the calling OS thread, resumed in
// rounds in the schedule's order; implements the block barrier and the generic warp collective
// with their misuse checks and deadlock reports (see emu_core.h).
#include <algorithm>
#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <random>
#include <string>
#include <vector>

#include <vector_functions.h>

#include "emu_block.h"
#include "emu_core.h"
#include "emu_fiber.h"

namespace dd::simt::emu {

__thread ThreadView* tl_thread = nullptr;
__thread BlockView* tl_block = nullptr;

namespace {

constexpr uint32_t kPoisonWord = 0x7FFF7FFFu;   // NaN as float, as double, and as each bf16 / half

std::string vformat(const char* fmt, va_list ap) {
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    return buf;
}

const char* base_name(const char* path) {
    const char* s = strrchr(path, '/');
    return s ? s + 1 : path;
}
bool same_site(const char* fa, int la, const char* fb, int lb) {
    return la == lb && (fa == fb || strcmp(fa, fb) == 0);
}

enum class FState : uint8_t { kReady, kBarrier, kWarp, kExited };

struct Fiber : ThreadView {
    Context ctx;
    FState state;
    const char* file;  // where it waits (barrier or collective)
    int line;
    const char* what;
    unsigned wait_mask;
    const void* in;  // its deposit in the pending collective
    void* out;
};

struct Group {  // lanes of one warp waiting in the same collective
    const WarpOp* op;
    const char* file;
    int line;
    unsigned mask;
    unsigned arrived;
};

struct Warp {
    unsigned exists;  // lanes present in the block (the last warp may be partial)
    unsigned exited;
    int ngroups;
    Group groups[32];  // disjoint masks, so at most 32 at once
};

struct Block : BlockView {
    Fiber* fibers;
    unsigned n;
    Warp* warps;
    Context sched;  // the OS thread's own context: runs rounds, resolves barriers
    const unsigned* round;  // fibers ready when the current round started, in schedule order
    unsigned round_len, round_pos;
    void (*entry)(void*);
    void* arg;
    unsigned live;
    unsigned at_barrier;
    const char* bar_file;
    int bar_line;
    int bar_count, bar_and, bar_or;  // accumulating over the current barrier's arrivals
    int res_count, res_and, res_or;  // results of the last released barrier
    bool failed;
    std::string error;
    uint64_t resumes, collectives, barriers;
};

// Per-OS-thread resources, reused by every block that thread runs. Kept reachable from a global
// registry so leak checkers do not flag them (the pool threads live until the process exits).
struct Worker {
    std::vector<FiberStack> stacks;
    std::vector<Fiber> fibers;
    std::vector<Warp> warps;
    unsigned char* smem = nullptr;
    size_t smem_bytes = 0;
    std::vector<unsigned> order;
    Block block{};
};

std::mutex g_registry_mu;
std::vector<Worker*>* g_registry = new std::vector<Worker*>;
thread_local Worker* tl_worker = nullptr;

Worker& this_worker() {
    if (!tl_worker) {
        tl_worker = new Worker;
        context_of_this_thread(tl_worker->block.sched);
        std::lock_guard<std::mutex> lk(g_registry_mu);
        g_registry->push_back(tl_worker);
    }
    return *tl_worker;
}

Block& cur_block() { return *static_cast<Block*>(tl_block); }
Fiber& cur_fiber() { return *static_cast<Fiber*>(tl_thread); }

std::atomic<uint64_t> g_blocks{0}, g_resumes{0}, g_collectives{0}, g_barriers{0};

// ---- failing, yielding ------------------------------------------------------------------------------

void record_failure(std::string msg) {
    Block& B = cur_block();
    if (!B.failed) {
        B.failed = true;
        B.error = std::move(msg);
    }
}

// Leaves the failing fiber for good. Separate from record_failure so that the message's
// temporaries are destroyed (end of their full-expression) before the fiber stack is abandoned.
[[noreturn]] void abandon_fiber() {
    context_switch(cur_fiber().ctx, cur_block().sched, /*exiting=*/true);
    std::abort();  // never resumed
}

#define DD_EMU_FAIL(message)         \
    do {                             \
        record_failure(message);     \
        abandon_fiber();             \
    } while (0)

// Next fiber of the current round that is still ready (or null when the round is over).
Fiber* next_in_round(Block& B) {
    while (B.round_pos < B.round_len) {
        Fiber& f = B.fibers[B.round[B.round_pos++]];
        if (f.state == FState::kReady) return &f;
    }
    return nullptr;
}

// A blocking or exiting fiber hands the OS thread straight to the next fiber of the round: one
// switch instead of two through the scheduler, and the same order the scheduler would pick.
void switch_away(Fiber& f, Block& B, bool exiting) {
    if (Fiber* next = B.failed ? nullptr : next_in_round(B)) {
        tl_thread = next;
        ++B.resumes;
        context_switch(f.ctx, next->ctx, exiting);
    } else {
        context_switch(f.ctx, B.sched, exiting);
    }
}


std::string thread_name(const Fiber& f) {
    return format("thread %u (%u,%u,%u)", f.linear, f.thread_idx.x, f.thread_idx.y, f.thread_idx.z);
}

// "0-31,40,64-95" from sorted linear ids.
std::string ranges(const std::vector<unsigned>& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size();) {
        size_t j = i;
        while (j + 1 < ids.size() && ids[j + 1] == ids[j] + 1) ++j;
        if (!s.empty()) s += ",";
        s += j == i ? format("%u", ids[i]) : format("%u-%u", ids[i], ids[j]);
        i = j + 1;
    }
    return s;
}

// Every non-exited thread, grouped by where it waits.
std::string waiting_report(const Block& B) {
    struct Key {
        FState st;
        const char* what;
        const char* file;
        int line;
        unsigned mask;
        std::vector<unsigned> ids;
    };
    std::vector<Key> keys;
    for (unsigned i = 0; i < B.n; ++i) {
        const Fiber& f = B.fibers[i];
        if (f.state == FState::kExited || f.state == FState::kReady) continue;
        const unsigned mask = f.state == FState::kWarp ? f.wait_mask : 0;
        auto it = std::find_if(keys.begin(), keys.end(), [&](const Key& k) {
            return k.st == f.state && k.what == f.what && k.mask == mask && same_site(k.file, k.line, f.file, f.line);
        });
        if (it == keys.end()) {
            keys.push_back(Key{f.state, f.what, f.file, f.line, mask, {}});
            it = keys.end() - 1;
        }
        it->ids.push_back(f.linear);
    }
    std::string s;
    for (const Key& k : keys) {
        s += format("\n    threads %s wait in %s", ranges(k.ids).c_str(), k.what);
        if (k.st == FState::kWarp) s += format(" (mask 0x%08x)", k.mask);
        s += format(" at %s:%d", base_name(k.file), k.line);
    }
    std::vector<unsigned> exited;
    for (unsigned i = 0; i < B.n; ++i)
        if (B.fibers[i].state == FState::kExited) exited.push_back(i);
    if (!exited.empty()) s += "\n    threads " + ranges(exited) + " have exited";
    return s;
}

// Pending collectives of one warp whose masks overlap: some lane is expected by a group but
// waits in another call, the classic cause of a collective deadlock.
std::string mismatch_report(const Block& B) {
    std::string s;
    for (unsigned w = 0; w < (B.n + 31) / 32; ++w) {
        const Warp& W = B.warps[w];
        for (int a = 0; a < W.ngroups; ++a)
            for (int b = a + 1; b < W.ngroups; ++b) {
                const Group &x = W.groups[a], &y = W.groups[b];
                if (!(x.mask & y.mask)) continue;
                s += format("\n    warp %u: warp-synchronous calls do not match: lanes 0x%08x wait in %s (mask 0x%08x) "
                            "at %s:%d, lanes 0x%08x in %s (mask 0x%08x) at %s:%d",
                            w, x.arrived, x.op->name, x.mask, base_name(x.file), x.line, y.arrived, y.op->name,
                            y.mask, base_name(y.file), y.line);
            }
    }
    return s;
}

// ---- fibers -------------------------------------------------------------------------------------------

void thread_exit(Block& B, Fiber& f) {
    Warp& W = B.warps[f.warp];
    const unsigned bit = 1u << f.lane;
    for (int k = 0; k < W.ngroups; ++k) {
        const Group& g = W.groups[k];
        if (g.mask & bit)
            DD_EMU_FAIL(format("%s exited while lanes 0x%08x of warp %u wait for it in %s (mask 0x%08x) at %s:%d",
                               thread_name(f).c_str(), g.arrived, f.warp, g.op->name, g.mask, base_name(g.file),
                               g.line));
    }
    mem_thread_exit(f.linear);
    W.exited |= bit;
    f.state = FState::kExited;
    --B.live;
}

void fiber_main(void* p) {
    Fiber& f = *static_cast<Fiber*>(p);
    Block& B = cur_block();
    context_entered();
    B.entry(B.arg);
    thread_exit(B, f);
    switch_away(f, B, /*exiting=*/true);
    std::abort();
}

// Nothing is runnable: either every live thread waits at the barrier (release it) or the block is
// stuck (report every waiting thread's site and fail).
bool resolve(Block& B) {
    unsigned at_warp = 0;
    for (unsigned i = 0; i < B.n; ++i) at_warp += B.fibers[i].state == FState::kWarp;
    if (at_warp == 0 && B.at_barrier > 0 && B.at_barrier == B.live) {
        for (unsigned i = 0; i < B.n; ++i)
            if (B.fibers[i].state == FState::kBarrier) B.fibers[i].state = FState::kReady;
        // Snapshot: the first thread to reach the next barrier resets the accumulators, possibly
        // before slower threads have read this barrier's results. The snapshot itself is only
        // replaced at the next release, which needs every thread (so every reader) to arrive.
        B.res_count = B.bar_count;
        B.res_and = B.bar_and;
        B.res_or = B.bar_or;
        B.at_barrier = 0;
        ++B.barriers;
        mem_barrier_release();
        ++B.epoch;
        return true;
    }
    B.failed = true;
    B.error = "deadlock: no thread can run;" + waiting_report(B) + mismatch_report(B);
    return false;
}

// ---- running a block --------------------------------------------------------------------------------

// Grows the OS thread's stacks / fibers to n threads and sizes its dynamic shared memory.
void prepare_worker(Worker& W, unsigned n, size_t bytes) {
    while (W.stacks.size() < n) {
        FiberStack s;
        if (!stack_alloc(s, default_stack_bytes())) {
            fprintf(stderr, "dyndit SIMT emulator: cannot map a fiber stack\n");
            std::abort();
        }
        W.stacks.push_back(s);
    }
    if (W.fibers.size() < n) W.fibers.resize(n);
    if (W.warps.size() < (n + 31) / 32) W.warps.resize((n + 31) / 32);
    // Exactly the requested size, so AddressSanitizer sees accesses past the end.
    if (W.smem_bytes != bytes) {
        if (W.smem) ::operator delete(W.smem, std::align_val_t(128));
        W.smem = bytes ? static_cast<unsigned char*>(::operator new(bytes, std::align_val_t(128))) : nullptr;
        W.smem_bytes = bytes;
    }
}

void poison(unsigned char* p, size_t bytes) {
    size_t i = 0;
    for (; i + 4 <= bytes; i += 4) memcpy(p + i, &kPoisonWord, 4);
    for (; i < bytes; ++i) p[i] = (i & 1) ? 0x7F : 0xFF;  // little-endian halves of 0x7FFF
}

bool run_block_here(const BlockJob& job, Worker& W, uint64_t b) {
    const LaunchSpec& s = *job.spec;
    Block& B = W.block;
    const dim3 g = s.grid, d = s.block;
    B.block_idx = make_uint3((unsigned)(b % g.x), (unsigned)((b / g.x) % g.y), (unsigned)(b / ((uint64_t)g.x * g.y)));
    B.block_dim = d;
    B.grid_dim = g;
    B.dyn_smem = W.smem;
    B.dyn_smem_bytes = s.dyn_smem;
    poison(W.smem, s.dyn_smem);
    B.entry = s.entry;
    B.arg = s.arg;
    B.n = job.nthreads;
    B.fibers = W.fibers.data();
    B.warps = W.warps.data();
    B.live = B.n;
    B.at_barrier = 0;
    B.failed = false;
    B.error.clear();
    B.resumes = B.collectives = B.barriers = 0;
    B.epoch = 0;
    mem_block_begin(B.n, s.dyn_smem);
    for (unsigned w = 0; w < (B.n + 31) / 32; ++w) {
        const unsigned lanes = std::min(32u, B.n - 32 * w);
        B.warps[w].exists = lanes == 32 ? ~0u : (1u << lanes) - 1;
        B.warps[w].exited = 0;
        B.warps[w].ngroups = 0;
    }
    for (unsigned i = 0; i < B.n; ++i) {
        Fiber& f = B.fibers[i];
        f.thread_idx = make_uint3(i % d.x, (i / d.x) % d.y, i / (d.x * d.y));
        f.linear = i;
        f.lane = i % 32;
        f.warp = i / 32;
        f.state = FState::kReady;
        context_init(f.ctx, W.stacks[i], fiber_main, &f);
    }
    tl_block = &B;
    std::mt19937_64 rng(job.seed ^ (b * 0x9E3779B97F4A7C15ull));
    while (!B.failed) {
        W.order.clear();
        for (unsigned i = 0; i < B.n; ++i)
            if (B.fibers[i].state == FState::kReady) W.order.push_back(i);
        if (W.order.empty()) {
            if (B.live == 0 || !resolve(B)) break;
            continue;
        }
        if (job.schedule == Schedule::kReverse) std::reverse(W.order.begin(), W.order.end());
        if (job.schedule == Schedule::kRandom) std::shuffle(W.order.begin(), W.order.end(), rng);
        // One round: every fiber ready now runs until it blocks or exits, in this order; each
        // hands over to the next (switch_away) and the last one returns here.
        B.round = W.order.data();
        B.round_len = (unsigned)W.order.size();
        B.round_pos = 0;
        Fiber* first = next_in_round(B);
        tl_thread = first;
        ++B.resumes;
        context_switch(B.sched, first->ctx);
    }
    tl_block = nullptr;
    tl_thread = nullptr;
    g_blocks.fetch_add(1, std::memory_order_relaxed);
    g_resumes.fetch_add(B.resumes, std::memory_order_relaxed);
    g_collectives.fetch_add(B.collectives, std::memory_order_relaxed);
    g_barriers.fetch_add(B.barriers, std::memory_order_relaxed);
    return !B.failed;
}
}  // namespace

std::string format(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    std::string s = vformat(fmt, ap);
    va_end(ap);
    return s;
}

bool run_block(const BlockJob& job, uint64_t b, std::string* error, Counters* counted) {
    Worker& W = this_worker();
    prepare_worker(W, job.nthreads, job.spec->dyn_smem);
    const bool ok = run_block_here(job, W, b);
    if (counted && !mem_block_end(counted)) *counted = Counters{};
    if (ok) return true;
    const uint3 bi = W.block.block_idx;
    *error = format("block (%u,%u,%u): %s", bi.x, bi.y, bi.z, W.block.error.c_str());
    return false;
}

Stats stats() { return Stats{g_blocks.load(), g_resumes.load(), g_collectives.load(), g_barriers.load()}; }
void reset_stats() { g_blocks = g_resumes = g_collectives = g_barriers = 0; }

// ---- kernel-side API (emu_core.h) -----------------------------------------------------------------

bool in_kernel() { return tl_block != nullptr; }

void kernel_fail(const char* fmt, ...) {
    {
        va_list ap;
        va_start(ap, fmt);
        const std::string msg = vformat(fmt, ap);
        va_end(ap);
        if (!in_kernel()) {
            fprintf(stderr, "dyndit SIMT emulator: %s\n", msg.c_str());
            std::abort();
        }
        record_failure(thread_name(cur_fiber()) + ": " + msg);
    }
    abandon_fiber();
}

int block_barrier(BarrierKind kind, int pred, const char* file, int line) {
    Block& B = cur_block();
    Fiber& f = cur_fiber();
    if (B.at_barrier > 0 && !same_site(B.bar_file, B.bar_line, file, line))
        DD_EMU_FAIL(format("divergent __syncthreads: %s reached the barrier at %s:%d while other threads wait at "
                           "%s:%d;%s",
                           thread_name(f).c_str(), base_name(file), line, base_name(B.bar_file), B.bar_line,
                           waiting_report(B).c_str()));
    if (B.at_barrier == 0) {
        B.bar_file = file;
        B.bar_line = line;
        B.bar_count = 0;
        B.bar_and = 1;
        B.bar_or = 0;
    }
    ++B.at_barrier;
    if (pred) {
        ++B.bar_count;
        B.bar_or = 1;
    } else {
        B.bar_and = 0;
    }
    f.state = FState::kBarrier;
    f.file = file;
    f.line = line;
    f.what = "__syncthreads";
    switch_away(f, B, /*exiting=*/false);
    switch (kind) {
        case kBarrierCount: return B.res_count;
        case kBarrierAnd: return B.res_and;
        case kBarrierOr: return B.res_or;
        default: return 0;
    }
}

void warp_collective(const WarpOp& op, unsigned mask, const void* in, void* out, const char* file, int line) {
    Block& B = cur_block();
    Fiber& f = cur_fiber();
    Warp& W = B.warps[f.warp];
    const unsigned bit = 1u << f.lane;
    if (!(mask & bit))
        DD_EMU_FAIL(format("%s at %s:%d: the calling lane %u is not in mask 0x%08x", op.name, base_name(file), line,
                           f.lane, mask));
    if (mask & ~W.exists)
        DD_EMU_FAIL(format("%s at %s:%d: mask 0x%08x names lanes 0x%08x that do not exist (block of %u threads)",
                           op.name, base_name(file), line, mask, mask & ~W.exists, B.n));
    if (mask & W.exited)
        DD_EMU_FAIL(format("%s at %s:%d: mask 0x%08x names lanes 0x%08x of warp %u that have exited", op.name,
                           base_name(file), line, mask, mask & W.exited, f.warp));
    // Join the pending group making the same call (op, source line, mask), else open one. Lanes
    // may wait in different overlapping groups for a while (independent thread scheduling: e.g.
    // half a warp finishes its own collective before joining a full-warp one); a true mismatch
    // can never complete and is reported by resolve() with every group's call site.
    int gi = -1;
    for (int k = 0; k < W.ngroups; ++k) {
        const Group& g = W.groups[k];
        if (g.mask == mask && g.op == &op && same_site(g.file, g.line, file, line)) {
            gi = k;
            break;
        }
    }
    if (gi < 0) {
        gi = W.ngroups++;
        W.groups[gi] = Group{&op, file, line, mask, 0};
    }
    f.in = in;
    f.out = out;
    Group& g = W.groups[gi];
    g.arrived |= bit;
    if (g.arrived != mask) {
        f.state = FState::kWarp;
        f.file = file;
        f.line = line;
        f.what = op.name;
        f.wait_mask = mask;
        switch_away(f, B, /*exiting=*/false);
        return;  // the last lane computed our result
    }
    // Last to arrive: compute every lane's result, release the others.
    WarpCall call;
    call.mask = mask;
    const unsigned base = f.warp * 32;
    for (unsigned l = 0; l < 32; ++l) {
        const bool in_mask = (mask >> l) & 1;
        call.in[l] = in_mask ? B.fibers[base + l].in : nullptr;
        call.out[l] = in_mask ? B.fibers[base + l].out : nullptr;
    }
    W.groups[gi] = W.groups[--W.ngroups];
    ++B.collectives;
    if (op.counter != kCountNone) mem_count_collective(op.counter);
    char err[512];
    err[0] = 0;
    if (const char* e = op.fn(call, err, sizeof err))
        DD_EMU_FAIL(format("%s at %s:%d (mask 0x%08x, warp %u): %s", op.name, base_name(file), line, mask, f.warp, e));
    for (unsigned l = 0; l < 32; ++l)
        if (((mask >> l) & 1) && l != f.lane) B.fibers[base + l].state = FState::kReady;
}

}  // namespace dd::simt::emu
