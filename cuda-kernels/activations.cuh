// Element-wise activations on the GPU. Host launchers return the launch's CUDA error.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
cudaError_t gelu_tanh(const float* x, float* y, int64_t n, cudaStream_t stream);
cudaError_t silu(const float* x, float* y, int64_t n, cudaStream_t stream);
}  // namespace dd::cuda_kernels
