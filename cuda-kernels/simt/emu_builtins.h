// threadIdx / blockIdx / blockDim / gridDim and __syncthreads for emulated kernels. The source
// location of every barrier comes from __builtin_FILE/__builtin_LINE default arguments, so the
// divergence and deadlock reports name the caller's line without macros around the calls.
#pragma once
#include <atomic>
#include <chrono>

#include "emu_core.h"

#define threadIdx (::dd::simt::emu::this_thread().thread_idx)
#define blockIdx (::dd::simt::emu::this_block().block_idx)
#define blockDim (::dd::simt::emu::this_block().block_dim)
#define gridDim (::dd::simt::emu::this_block().grid_dim)

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    ::dd::simt::emu::block_barrier(::dd::simt::emu::kBarrierPlain, 0, file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return ::dd::simt::emu::block_barrier(::dd::simt::emu::kBarrierCount, pred, file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return ::dd::simt::emu::block_barrier(::dd::simt::emu::kBarrierAnd, pred, file, line);
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
    return ::dd::simt::emu::block_barrier(::dd::simt::emu::kBarrierOr, pred, file, line);
}

// Memory fences: the emulator is sequentially consistent inside a block; across blocks (parallel
// OS threads) a full fence gives at least the ordering CUDA promises.
inline void __threadfence() { std::atomic_thread_fence(std::memory_order_seq_cst); }
inline void __threadfence_block() { std::atomic_signal_fence(std::memory_order_seq_cst); }
inline void __threadfence_system() { std::atomic_thread_fence(std::memory_order_seq_cst); }

[[noreturn]] inline void __trap() { ::dd::simt::emu::kernel_fail("__trap() called"); }
inline void __nanosleep(unsigned) {}
// Nanoseconds, not GPU cycles: only differences mean anything, as on the GPU.
inline long long clock64() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
