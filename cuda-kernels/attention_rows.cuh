// Softmax attention of Tq query rows against Tk keys (Tq != Tk: a subset of queries against every key, as token
// caching asks): plain fp32 FMAs, one warp per (query, head, sample). The flash kernels (attention_varlen.cuh)
// cover self-attention.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// Element (n, t, h, d) of q / o at base + n * *_sn + t * *_st + h * *_sh + d (d contiguous); k, v likewise with
// Tk tokens. out = softmax(q k^T * scale) v per (sample, head). 1 <= Dh <= 128.
struct AttentionRowsArgs {
    const float* q; int64_t q_sn, q_st, q_sh;
    const float* k; int64_t k_sn, k_st, k_sh;
    const float* v; int64_t v_sn, v_st, v_sh;
    float* o; int64_t o_sn, o_st, o_sh;
    int N, Tq, Tk, H, Dh;
    float scale;
};

// cudaErrorInvalidValue for bad sizes / null pointers; otherwise the launch's status.
cudaError_t attention_rows(const AttentionRowsArgs& args, cudaStream_t stream);

}  // namespace dd::cuda_kernels
