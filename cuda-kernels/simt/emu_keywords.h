// CUDA keywords for g++. Defined before CUDA's own headers where possible (crt/host_defines.h
// keeps definitions that already exist); CUDA's vector_types.h / cuda_fp16.h / cuda_bf16.h then
// compile host-only (dim3, float4, __half and __nv_bfloat16 with conversions and arithmetic).
#pragma once
#if defined(__CUDACC__)
#error "emu_keywords.h is for host compilers; nvcc takes the CUDA path of dd_cuda.h"
#endif
#define DD_EMU_KEYWORDS 1

// Standard headers first: some of them use GNU attributes these macros must not touch.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <tuple>
#include <type_traits>
#include <utility>

// CUDA's headers may already be in (a kernel's .cuh included <cuda_runtime.h> first): then
// host_defines.h has defined these as empty attributes, which for __shared__ would silently make
// shared memory an automatic variable. So every keyword is (re)defined here.
#undef __global__
#undef __device__
#undef __host__
#undef __constant__
#undef __managed__
#undef __grid_constant__
#undef __shared__
#undef __forceinline__
#undef __launch_bounds__
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __grid_constant__
// Per-block shared memory: every thread of a block is a fiber on the same OS thread and an OS
// thread runs one block at a time, so a thread-local static is exactly one copy per running block.
#define __shared__ static thread_local
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
// __noinline__ stays undefined: libstdc++ spells __attribute__((__noinline__)).

#include <vector_types.h>
#include <vector_functions.h>
#include <cuda_runtime.h>
#include <cuda_fp16.h>
#include <cuda_bf16.h>

// A builtin variable in CUDA, a constant here.
constexpr int warpSize = 32;
