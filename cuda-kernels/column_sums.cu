// One thread per column: consecutive threads read consecutive columns of a row, so every row read is coalesced,
// and each column is summed in row order by one thread (no atomics: the same result on every run).
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cstdint>

#include "column_sums.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 128;

__global__ void __launch_bounds__(kThreads)
    column_sums_kernel(const float* x, int64_t rows, int64_t cols, int64_t ld, float factor, bool accumulate,
                       float* out) {
    const int64_t j = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (j >= cols) return;
    float s = 0.0f;
    for (int64_t i = 0; i < rows; ++i) s += x[i * ld + j];
    out[j] = accumulate ? out[j] + factor * s : factor * s;
}

}  // namespace

cudaError_t column_sums(const float* x, int64_t rows, int64_t cols, int64_t ld, float factor, bool accumulate,
                        float* out, cudaStream_t stream) {
    if (rows < 0 || cols < 0 || ld < cols || (cols > 0 && !out) || (rows > 0 && cols > 0 && !x))
        return cudaErrorInvalidValue;
    if (cols == 0) return cudaSuccess;  // rows == 0 still writes out (zeros when not accumulating)
    const int64_t blocks = (cols + kThreads - 1) / kThreads;
    if (blocks > 0x7fffffff) return cudaErrorInvalidValue;
    return dd_launch(column_sums_kernel, dim3((unsigned)blocks), kThreads, 0, stream, x, rows, cols, ld, factor,
                     accumulate, out);
}

}  // namespace dd::cuda_kernels
