// LayerNorm, one 256-thread block per row (grid-stride over rows). Two passes over the row (mean,
// then the centred sum of squares) instead of E[x^2] - mean^2, which cancels badly for rows with a
// large mean; the row is re-read from L1/L2, cheap next to the reductions.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "block_reduce.cuh"
#include "layernorm_rows.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    layernorm_rows_kernel(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int cols,
                          float eps) {
    __shared__ float scratch[32];
    const float inv_cols = 1.0f / (float)cols;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float* xr = x + r * cols;
        float* yr = y + r * cols;
        float s = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) s += xr[c];
        const float mean = block_sum(s, scratch) * inv_cols;
        float q = 0.0f;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            const float d = xr[c] - mean;
            q += d * d;
        }
        const float rstd = rsqrtf(block_sum(q, scratch) * inv_cols + eps);
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            float v = (xr[c] - mean) * rstd;
            if (gamma) v *= gamma[c];
            if (beta) v += beta[c];
            yr[c] = v;
        }
    }
}

}  // namespace

cudaError_t layernorm_rows(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int cols,
                           float eps, cudaStream_t stream) {
    if (rows < 0 || cols <= 0 || !x || !y) return cudaErrorInvalidValue;
    if (rows == 0) return cudaSuccess;
    const unsigned grid = (unsigned)(rows < 65535 ? rows : 65535);
    return dd_launch(layernorm_rows_kernel, grid, kThreads, 0, stream, x, gamma, beta, y, rows, cols, eps);
}

}  // namespace dd::cuda_kernels
