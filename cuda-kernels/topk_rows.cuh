// DiffCR per-row top-k token routing on the device.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// Largest T this kernel sorts in shared memory (one block per row).
constexpr int64_t kTopkMaxT = 4096;

// Per row n of scores [N,T] (row stride scores_rs floats): the k largest scores (ties: lower t first;
// -0.0 == +0.0), written as flat indices n*T + t in ascending t into index [N,k] (contiguous, i32).
// 1 <= k <= T <= kTopkMaxT, N*T must fit in int32. Rows with NaN scores: selection unspecified (as on
// the CPU, whose comparator is not a strict weak order then).
cudaError_t topk_rows(const float* scores, int64_t scores_rs, int32_t* index, int64_t N, int64_t T, int64_t k,
                      cudaStream_t stream);
}  // namespace dd::cuda_kernels
