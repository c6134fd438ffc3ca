// 2-D convolution (PyTorch Conv2d, stride 1, zero padding (k-1)/2) on NCHW fp32 activations as an implicit
// GEMM on TF32 tensor cores (or fp32 FMAs), with bias and residual fused into the epilogue (SD-VAE decoder).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

enum class ConvPrecision { kTf32, kFp32 };

// y[n,o,i,j] = bias[o] + residual[n,o,i,j] + sum_{c,a,b} w[o,c,a,b] * x[n,c,i+a-p,j+b-p], p = (k-1)/2,
// k in {1, 3}. x [N][Ci][H][W], w [Co][Ci][k][k], y / residual [N][Co][H][W], contiguous. bias, residual:
// null for none; residual may be y itself, otherwise y overlaps no input.
struct Conv2dArgs {
    const float* x;
    const float* w;
    const float* bias = nullptr;
    const float* residual = nullptr;
    float* y;
    int N, Ci, Co, H, W, k;
    ConvPrecision precision = ConvPrecision::kTf32;
};

cudaError_t vae_conv2d(const Conv2dArgs& a, cudaStream_t stream);

}  // namespace dd::cuda_kernels
