// Element-wise activations on the GPU. Host launchers return the launch's CUDA error.
// All take n >= 0 floats, allow x == y (in place) and return cudaSuccess without a launch when n == 0.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
cudaError_t gelu_tanh(const float* x, float* y, int64_t n, cudaStream_t stream);
cudaError_t silu(const float* x, float* y, int64_t n, cudaStream_t stream);
// y = x > 0 ? x : 0 (NaN and -0 give +0, as the CPU backend).
cudaError_t relu(const float* x, float* y, int64_t n, cudaStream_t stream);
// y = 1 / (1 + expf(-x)) in float, as the CPU backend: DiffCR's top-k routing thresholds these scores.
cudaError_t sigmoid(const float* x, float* y, int64_t n, cudaStream_t stream);
}  // namespace dd::cuda_kernels
