// Small bf16 tensor-core GEMM with fp32 accumulation: C = A * op(B) + bias.
#pragma once
#include <cuda_bf16.h>
#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// A: [M][K] row-major. B: [N][K] (b_is_nk, nn.Linear weight layout, C = A * B^T) or [K][N].
// C: [M][N] fp32; bias: [N] or null. Needs K % 8 == 0 (and N % 8 == 0 for [K][N]) and 16-byte
// aligned A / B (cudaMalloc gives 256): otherwise cudaErrorInvalidValue.
cudaError_t gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, bool b_is_nk, const float* bias, float* C,
                      int M, int N, int K, cudaStream_t stream);
}  // namespace dd::cuda_kernels
