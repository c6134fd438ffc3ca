// adaLN modulation of DiT blocks: y = LN(x) * (1 + scale) + shift over rows of D (fp32, no LN affine).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// x, y: [N,T,D] with strides (x_sn, x_st), (y_sn, y_st) in floats, last dim contiguous.
// shift, scale: [N,D] rows at shift_sn / scale_sn, or NULL (treated as 0). In-place (y == x, same
// strides) allowed. Biased variance, rstd = 1 / sqrt(var + eps), as dd_layernorm_modulate.
cudaError_t layernorm_modulate(const float* x, int64_t x_sn, int64_t x_st, float* y, int64_t y_sn, int64_t y_st,
                               const float* shift, int64_t shift_sn, const float* scale, int64_t scale_sn, int64_t N,
                               int64_t T, int64_t D, float eps, cudaStream_t stream);

// Ragged rows (DyDiT kept tokens): x, y [K,D] at row strides x_rs / y_rs; row i uses shift / scale row
// row_sample[i] (in [0,S), device i32). shift / scale may be NULL. In-place allowed.
cudaError_t layernorm_modulate_rows(const float* x, int64_t x_rs, float* y, int64_t y_rs, const float* shift,
                                    int64_t shift_rs, const float* scale, int64_t scale_rs,
                                    const int32_t* row_sample, int64_t K, int64_t D, float eps,
                                    cudaStream_t stream);
}  // namespace dd::cuda_kernels
