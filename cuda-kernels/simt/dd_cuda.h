// The portability header every kernel file includes first: "one source, two compilers".
//   nvcc: plain CUDA. dd_launch(kernel, grid, block, smem_bytes, stream, args...) is a <<<>>> launch
//         that returns cudaGetLastError(); DD_DYNAMIC_SMEM(T, name) declares the dynamic shared
//         memory as T* name; warp intrinsics are CUDA's own.
//   g++:  the same source runs on the CPU under the SIMT emulator (simt/emu_*.h, emu_*.cpp): CUDA
//         keywords defined before CUDA's headers, threads as fibers, real barriers, warp
//         collectives, atomics, NaN-poisoned dynamic shared memory, a cudart shim.
// Rules for kernel code: never write <<<>>>, `extern __shared__` or __CUDA_ARCH__ branches; use
// dd_launch, DD_DYNAMIC_SMEM and simt/dd_mma.h. Host code reports errors with
// dd::simt::error_detail(err), which under the emulator names the kernel and the failing site.
// DD_UNROLL stands for `#pragma unroll`.
#pragma once

#if defined(__CUDACC__)

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <utility>

// Loop unrolling hint (an unknown pragma would warn under g++).
#define DD_UNROLL _Pragma("unroll")

#define DD_DYNAMIC_SMEM(T, name)                                      \
    extern __shared__ __align__(16) unsigned char dd_dynamic_smem_[]; \
    T* name = reinterpret_cast<T*>(dd_dynamic_smem_)

namespace dd::simt {
template <typename... P, typename... A>
inline cudaError_t launch_kernel(void (*kernel)(P...), dim3 grid, dim3 block, size_t dyn_smem, cudaStream_t stream,
                                 A&&... args) {
    static_assert(sizeof...(P) == sizeof...(A), "dd_launch: argument count differs from the kernel's parameters");
    kernel<<<grid, block, dyn_smem, stream>>>(std::forward<A>(args)...);
    return cudaGetLastError();
}
inline const char* error_detail(cudaError_t e) { return cudaGetErrorString(e); }
}  // namespace dd::simt

#define dd_launch(...) ::dd::simt::launch_kernel(__VA_ARGS__)

#else  // host compiler: SIMT emulator

#include "emu_keywords.h"  // must precede every CUDA header
#include "emu_api.h"
#include "emu_atomics.h"
#include "emu_builtins.h"
#include "emu_core.h"
#include "emu_counters.h"
#include "emu_cudart_cxx.h"
#include "emu_launch.h"
#include "emu_math.h"
#include "emu_mem.h"
#include "emu_mma.h"
#include "emu_warp.h"

#define DD_UNROLL
#define DD_DYNAMIC_SMEM(T, name) T* name = reinterpret_cast<T*>(::dd::simt::emu::this_block().dyn_smem)

namespace dd::simt {
// The emulator's detailed message (kernel, block, threads, source lines) for its last failure.
inline const char* error_detail(cudaError_t e) {
    return (e != cudaSuccess && e == emu::last_error_code()) ? emu::last_error_detail() : cudaGetErrorString(e);
}
}  // namespace dd::simt

#define dd_launch(...) ::dd::simt::emu::launch_named(#__VA_ARGS__, __VA_ARGS__)

#endif
