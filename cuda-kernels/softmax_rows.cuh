// In-place row softmax with a scale: x[r, :] = softmax(scale * x[r, :]). The normalising step of the GEMM
// form of attention that the CUDA backend uses for head dims the flash kernel does not take (the SD-VAE's
// single 512-channel head): S = Q K^T, softmax, O = P V.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// rows x cols, row stride ld (elements). cudaErrorInvalidValue for bad sizes.
cudaError_t softmax_rows(float* x, int64_t rows, int64_t cols, int64_t ld, float scale, cudaStream_t stream);

}  // namespace dd::cuda_kernels
