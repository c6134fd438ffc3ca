// One block per row: max, then sum of exp, then the normalised write, each a strided pass over the row with
// a block reduction (block_reduce.cuh). Accurate expf: results are compared with the CPU's attention.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cfloat>
#include <cstdint>

#include "block_reduce.cuh"
#include "softmax_rows.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;

__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
    DD_UNROLL
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < nwarps ? scratch[lane] : -FLT_MAX;
        DD_UNROLL
        for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
        if (lane == 0) scratch[0] = v;
    }
    __syncthreads();
    const float m = scratch[0];
    __syncthreads();  // scratch is reused by the next reduction
    return m;
}

__global__ void __launch_bounds__(kThreads) softmax_rows_kernel(float* x, int64_t cols, int64_t ld, float scale) {
    __shared__ float scratch[32];
    float* row = x + (int64_t)blockIdx.x * ld;
    float m = -FLT_MAX;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) m = fmaxf(m, row[j] * scale);
    m = block_max(m, scratch);
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) {
        const float e = expf(row[j] * scale - m);
        row[j] = e;
        s += e;
    }
    s = block_sum(s, scratch);
    const float inv = 1.0f / s;
    for (int64_t j = threadIdx.x; j < cols; j += kThreads) row[j] *= inv;
}

}  // namespace

cudaError_t softmax_rows(float* x, int64_t rows, int64_t cols, int64_t ld, float scale, cudaStream_t stream) {
    if (rows < 0 || cols < 0 || ld < cols || rows > 0x7fffffff) return cudaErrorInvalidValue;
    if (rows == 0 || cols == 0) return cudaSuccess;
    if (!x) return cudaErrorInvalidValue;
    return dd_launch(softmax_rows_kernel, dim3((unsigned)rows), kThreads, 0, stream, x, cols, ld, scale);
}

}  // namespace dd::cuda_kernels
