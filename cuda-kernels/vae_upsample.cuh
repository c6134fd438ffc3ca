// Nearest-neighbour 2x upsampling of NCHW fp32 activations (SD-VAE decoder).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// y[r][2i+di][2j+dj] = x[r][i][j] for r < rows = N * C, di, dj in {0, 1}; x [rows][H][W], y [rows][2H][2W],
// contiguous, not overlapping.
cudaError_t vae_upsample_nearest2x(const float* x, float* y, int64_t rows, int H, int W, cudaStream_t stream);
}  // namespace dd::cuda_kernels
