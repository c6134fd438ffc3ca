// Column sums of a row-major matrix with a factor: out[j] = factor * sum_i x[i, j] (+ out[j] when accumulating).
// The last step of dd_attention_key_mass (attention probabilities summed over queries, averaged over heads).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// x: rows x cols, row stride ld (elements); out: cols. Rows are summed in order (deterministic).
cudaError_t column_sums(const float* x, int64_t rows, int64_t cols, int64_t ld, float factor, bool accumulate,
                        float* out, cudaStream_t stream);

}  // namespace dd::cuda_kernels
