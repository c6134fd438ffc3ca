// Warp-shuffle and block-wide sums: building blocks for normalisation and softmax kernels.
#pragma once
#include "simt/dd_cuda.h"

namespace dd::cuda_kernels {

// Butterfly sum over a full warp: every lane ends with the total.
__device__ __forceinline__ float warp_sum(float v) {
    DD_UNROLL
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

// Sum over the whole block; every thread gets the total. blockDim.x must be a multiple of 32 and
// blockDim.y == blockDim.z == 1. `scratch`: 32 floats of shared memory, free again on return.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    v = warp_sum(v);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = warp_sum(lane < nwarps ? scratch[lane] : 0.0f);
        if (lane == 0) scratch[0] = v;  // every lane of warp 0 has read its slot: the shuffles synced it
    }
    __syncthreads();
    const float total = scratch[0];
    __syncthreads();  // nobody reads scratch any more: the next call may overwrite it
    return total;
}

}  // namespace dd::cuda_kernels
