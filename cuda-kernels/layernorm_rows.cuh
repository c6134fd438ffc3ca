// LayerNorm over the rows of a row-major fp32 matrix (no affine when gamma / beta are null).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// y[r][c] = (x[r][c] - mean_r) / sqrt(var_r + eps) * gamma[c] + beta[c]; x and y may alias.
cudaError_t layernorm_rows(const float* x, const float* gamma, const float* beta, float* y, int64_t rows, int cols,
                           float eps, cudaStream_t stream);
}  // namespace dd::cuda_kernels
