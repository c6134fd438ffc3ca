// Batched transpose of the last two axes, with an optional fused residual add (SD-VAE attention).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// y[b][s][r] = x[b][r][s] + (residual ? residual[b][s][r] : 0) for b < B, r < R, s < S; x [B][R][S],
// y and residual [B][S][R], all dense. residual may equal y (in-place add); x must not overlap y.
// The VAE mid-block attention moves NCHW activations ([N][C][H*W]) to token-major ([N][H*W][C]) and back,
// the way back adding the block's residual. Tiled through shared memory (32x32 tiles) so that both the
// reads of x and the writes of y are coalesced.
cudaError_t vae_transpose_last2(const float* x, const float* residual, float* y, int64_t B, int64_t R, int64_t S,
                                cudaStream_t stream);
}  // namespace dd::cuda_kernels
