// fp32 rows rounded to bf16 (round to nearest even): the CUDA backend's bf16 copies of GEMM weights
// (LinearArgs::w16), made once per weight and reused.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// out[r * out_rs + c] = bf16(w[r * w_rs + c]) for c < cols, 0 for cols <= c < out_rs (out_rs >= cols);
// bf16 values as their 16 bits. cudaErrorInvalidValue on negative sizes, a short row stride or null buffers.
cudaError_t round_rows_bf16(const float* w, int64_t w_rs, uint16_t* out, int64_t out_rs, int64_t rows, int64_t cols,
                            cudaStream_t stream);
}  // namespace dd::cuda_kernels
