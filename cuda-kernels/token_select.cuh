// DyDiT token selection on the device: keep token (n,t) when sigmoid(logit) > 0.5 in float32, compact
// the kept rows in ascending flat order (a device-side prefix sum, no host round trip).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// logits [N,T] at row stride logits_rs (floats). Writes the kept rows' flat indices n*T + t (ascending)
// into index[0..total), their sample n into row_sample[0..total), and counts[n] per sample; entries of
// index / row_sample past the total are untouched (as dd_select_tokens). All device buffers;
// index / row_sample hold N*T i32, counts N i32. N*T must fit in int32. Two launches on `stream`.
cudaError_t select_tokens(const float* logits, int64_t logits_rs, int32_t* index, int32_t* row_sample,
                          int32_t* counts, int64_t N, int64_t T, cudaStream_t stream);
}  // namespace dd::cuda_kernels
