// GroupNorm over NCHW fp32 activations with per-channel affine and optional fused SiLU (SD-VAE decoder).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// x, y [N][C][HW] contiguous (y == x allowed); groups of C / groups consecutive channels; gamma, beta [C],
// both given or both null. y = act((x - mean_g) / sqrt(var_g + eps) * gamma[c] + beta[c]), biased variance,
// act = SiLU (v * sigmoid(v)) when silu, else identity. C must be a multiple of groups.
cudaError_t vae_group_norm(const float* x, const float* gamma, const float* beta, float* y, int N, int C,
                           int64_t HW, int groups, float eps, bool silu, cudaStream_t stream);
}  // namespace dd::cuda_kernels
