// Core of the SIMT emulator as kernel code sees it: the current thread / block, the block barrier
// and the one generic warp-collective primitive every warp-synchronous operation is built on.
// Implementation: emu_block.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include <vector_types.h>

namespace dd::simt::emu {

// What a running emulated thread can ask about itself. The scheduler points tl_thread / tl_block at
// the fiber it resumes; a fiber never moves to another OS thread, so these stay right across yields.
struct ThreadView {
    uint3 thread_idx;
    unsigned linear;  // x + y*Dx + z*Dx*Dy, as CUDA linearises threads into warps
    unsigned lane;
    unsigned warp;
};
struct BlockView {
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
    unsigned char* dyn_smem;  // this OS thread's dynamic shared memory, NaN-poisoned per block
    size_t dyn_smem_bytes;
    uint32_t epoch;  // barriers released so far in this block (the cp.async checks' notion of a stage)
};
// __thread (not thread_local): plain TLS loads, no wrapper calls on every threadIdx access.
extern __thread ThreadView* tl_thread;
extern __thread BlockView* tl_block;

inline const ThreadView& this_thread() { return *tl_thread; }
inline const BlockView& this_block() { return *tl_block; }

// ---- generic warp collective ---------------------------------------------------------------------
// Each participating lane deposits a pointer to its input and to its output slot; the last lane of
// `mask` to arrive runs fn once for the whole group (all deposits visible), then every lane goes
// on. A group is the lanes making the same call: same op, same source line, same mask. The
// emulator checks that the caller is in mask and that mask names only existing, non-exited lanes
// (a lane exiting while a group waits for it fails too); lanes of one mask waiting in different
// calls can never complete and end in a deadlock report naming every group's site. Each check
// fails the launch with a message; none aborts the process.
struct WarpCall {
    unsigned mask;
    const void* in[32];
    void* out[32];
};
// Returns nullptr on success, else an error text (may be written into err[0..err_bytes)).
using WarpFn = const char* (*)(const WarpCall& call, char* err, size_t err_bytes);
// What a collective counts as (emu_counters.h), when counting is on.
enum CollectiveCounter : uint8_t { kCountNone, kCountMmaBf16, kCountMmaF16, kCountMmaTf32 };
struct WarpOp {
    const char* name;
    WarpFn fn;
    uint8_t counter = kCountNone;
};
void warp_collective(const WarpOp& op, unsigned mask, const void* in, void* out, const char* file, int line);

// ---- block barrier ---------------------------------------------------------------------------------
// Waits until every non-exited thread of the block reached the barrier at the same source line
// (a thread arriving at another line is a divergent barrier: the launch fails). Returns the
// reduction of `pred` over the block for the _count/_and/_or variants, 0 for kPlain.
enum BarrierKind { kBarrierPlain, kBarrierCount, kBarrierAnd, kBarrierOr };
int block_barrier(BarrierKind kind, int pred, const char* file, int line);

// Fails the running launch with a message (formatted like printf); never returns into the kernel.
[[noreturn]] void kernel_fail(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// True while the calling code runs inside an emulated kernel.
bool in_kernel();

}  // namespace dd::simt::emu
