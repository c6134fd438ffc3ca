// fp32 -> bf16 rows (bf16_round.cuh): one grid-stride kernel over the output, padding columns zeroed so the
// copy's bytes are all defined.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <algorithm>
#include <cstdint>

#include <cuda_bf16.h>

#include "bf16_round.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads)
    round_rows_kernel(const float* w, int64_t w_rs, __nv_bfloat16* out, int64_t out_rs, int64_t n, int64_t cols) {
    for (int64_t i = (int64_t)blockIdx.x * kThreads + threadIdx.x; i < n; i += (int64_t)gridDim.x * kThreads) {
        const int64_t r = i / out_rs, c = i - r * out_rs;
        out[i] = __float2bfloat16_rn(c < cols ? w[r * w_rs + c] : 0.0f);
    }
}

}  // namespace

cudaError_t round_rows_bf16(const float* w, int64_t w_rs, uint16_t* out, int64_t out_rs, int64_t rows, int64_t cols,
                            cudaStream_t stream) {
    if (rows < 0 || cols < 0 || out_rs < cols || w_rs < cols) return cudaErrorInvalidValue;
    const int64_t n = rows * out_rs;
    if (n == 0) return cudaSuccess;
    if (!w || !out) return cudaErrorInvalidValue;
    const int64_t blocks = std::min<int64_t>((n + kThreads - 1) / kThreads, 65535);
    return dd_launch(round_rows_kernel, dim3((unsigned)blocks), kThreads, 0, stream, w, w_rs,
                     reinterpret_cast<__nv_bfloat16*>(out), out_rs, n, cols);
}

}  // namespace dd::cuda_kernels
