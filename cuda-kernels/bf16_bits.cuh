// bf16 activations in registers: a stored bf16 (its 16 bits) widened to fp32 exactly, and fp32 rounded to bf16
// (nearest even, as __float2bfloat16_rn) for a store.
#pragma once
#include <cstdint>

#include <cuda_bf16.h>

namespace dd::cuda_kernels {

__device__ __forceinline__ float bf16_value(uint16_t bits) { return __uint_as_float((uint32_t)bits << 16); }

__device__ __forceinline__ uint16_t bf16_round_bits(float v) {
    return (uint16_t)(__float_as_uint(__bfloat162float(__float2bfloat16_rn(v))) >> 16);
}

// Two rounded values as one bf16x2 word, lo in the low half (the order of memory and of mma fragments).
__device__ __forceinline__ uint32_t bf16x2_round(float lo, float hi) {
    return (uint32_t)bf16_round_bits(lo) | ((uint32_t)bf16_round_bits(hi) << 16);
}

}  // namespace dd::cuda_kernels
