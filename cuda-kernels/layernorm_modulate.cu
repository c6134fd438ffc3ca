// adaLN LayerNorm + modulation, one block per row (grid-stride). Same two-pass fp32 statistics as the
// CPU kernel (mean, then centred sum of squares) so rows with a large mean do not cancel.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "block_reduce.cuh"
#include "layernorm_modulate.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 128;  // D of DiT is 384..1152: 3..9 elements per thread

// Row r -> sample: r / T for the [N,T,D] form, row_sample[r] for the ragged form.
struct LnmArgs {
    const float* x; int64_t x_sn, x_st;
    float* y; int64_t y_sn, y_st;
    const float* shift; int64_t shift_sn;
    const float* scale; int64_t scale_sn;
    const int32_t* row_sample;  // null: [N,T,D] form
    int64_t rows, T, D;
    float eps;
};

__global__ void __launch_bounds__(kThreads) layernorm_modulate_kernel(LnmArgs a) {
    __shared__ float scratch[32];
    const float inv_d = 1.0f / (float)a.D;
    for (int64_t r = blockIdx.x; r < a.rows; r += gridDim.x) {
        // ragged form: rows at stride x_st / y_st (x_sn = y_sn = 0, T = 1), sample from row_sample
        const int64_t n = a.row_sample ? (int64_t)a.row_sample[r] : r / a.T;
        const int64_t t = a.row_sample ? r : r % a.T;
        const float* xr = a.x + n * a.x_sn + t * a.x_st;
        float* yr = a.y + n * a.y_sn + t * a.y_st;
        const float* sh = a.shift ? a.shift + n * a.shift_sn : nullptr;
        const float* sc = a.scale ? a.scale + n * a.scale_sn : nullptr;
        float s = 0.0f;
        for (int64_t c = threadIdx.x; c < a.D; c += blockDim.x) s += xr[c];
        const float mean = block_sum(s, scratch) * inv_d;
        float q = 0.0f;
        for (int64_t c = threadIdx.x; c < a.D; c += blockDim.x) {
            const float d = xr[c] - mean;
            q += d * d;
        }
        // 1/sqrtf (both IEEE-rounded) instead of rsqrtf: closer to the CPU's 1/std::sqrt
        const float rstd = 1.0f / sqrtf(block_sum(q, scratch) * inv_d + a.eps);
        // each thread reads x[c] before writing y[c] at the same c: safe in place
        for (int64_t c = threadIdx.x; c < a.D; c += blockDim.x) {
            float v = (xr[c] - mean) * rstd;
            if (sc) v *= 1.0f + sc[c];
            if (sh) v += sh[c];
            yr[c] = v;
        }
    }
}

cudaError_t launch(const LnmArgs& a, cudaStream_t stream) {
    if (a.rows < 0 || a.D <= 0 || !a.x || !a.y || a.eps < 0) return cudaErrorInvalidValue;
    if (a.rows == 0) return cudaSuccess;
    const unsigned grid = (unsigned)(a.rows < 65535 ? a.rows : 65535);
    return dd_launch(layernorm_modulate_kernel, grid, kThreads, 0, stream, a);
}

}  // namespace

cudaError_t layernorm_modulate(const float* x, int64_t x_sn, int64_t x_st, float* y, int64_t y_sn, int64_t y_st,
                               const float* shift, int64_t shift_sn, const float* scale, int64_t scale_sn, int64_t N,
                               int64_t T, int64_t D, float eps, cudaStream_t stream) {
    if (N < 0 || T < 0) return cudaErrorInvalidValue;
    const LnmArgs a{x, x_sn, x_st, y, y_sn, y_st, shift, shift_sn, scale, scale_sn, nullptr, N * T, T, D, eps};
    return launch(a, stream);
}

cudaError_t layernorm_modulate_rows(const float* x, int64_t x_rs, float* y, int64_t y_rs, const float* shift,
                                    int64_t shift_rs, const float* scale, int64_t scale_rs,
                                    const int32_t* row_sample, int64_t K, int64_t D, float eps,
                                    cudaStream_t stream) {
    if (!row_sample && K > 0) return cudaErrorInvalidValue;
    const LnmArgs a{x, 0, x_rs, y, 0, y_rs, shift, shift_rs, scale, scale_rs, row_sample, K, 1, D, eps};
    return launch(a, stream);
}

}  // namespace dd::cuda_kernels
