// GELU (tanh approximation, written as x * sigmoid(2z)) and SiLU, grid-stride loops.
// Accurate expf (not __expf): outputs are compared with the CPU backend at 1e-6 relative.
#include "activations.cuh"

namespace dd::cuda_kernels {
namespace {

__global__ void gelu_tanh_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float v = x[i];
        float z = 0.7978845608028654f * (v + 0.044715f * v * v * v);
        y[i] = v / (1.0f + expf(-2.0f * z));
    }
}

__global__ void silu_kernel(const float* __restrict__ x, float* __restrict__ y, int64_t n) {
    for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
        float v = x[i];
        y[i] = v / (1.0f + expf(-v));
    }
}

unsigned grid_for(int64_t n, int threads) {
    int64_t blocks = (n + threads - 1) / threads;
    return (unsigned)(blocks < 65535 ? (blocks > 0 ? blocks : 1) : 65535);
}

}  // namespace

cudaError_t gelu_tanh(const float* x, float* y, int64_t n, cudaStream_t stream) {
    gelu_tanh_kernel<<<grid_for(n, 256), 256, 0, stream>>>(x, y, n);
    return cudaGetLastError();
}

cudaError_t silu(const float* x, float* y, int64_t n, cudaStream_t stream) {
    silu_kernel<<<grid_for(n, 256), 256, 0, stream>>>(x, y, n);
    return cudaGetLastError();
}

}  // namespace dd::cuda_kernels
