// The online (streaming) softmax step of the tensor-core attention kernels (attention_tc, attention_flash2 and its
// bf16 form), for one warp's m16 query rows: a score C fragment s[n][i] is row g + 8 (i >> 1), key
// k0 + 8 n + 2 t + (i & 1), in the exp2 domain; m[r], l[r] are row r's running max and sum (quad-uniform).
#pragma once
#include <cmath>

#include "simt/dd_cuda.h"

namespace dd::cuda_kernels {

// Scales the tile's scores by mul (1 where they are scaled already), masks keys at or past len to -inf, and moves
// the running max to include them: corr[r] = exp2(old max - new max) rescales row r's sum here and its output at the
// caller (0 on the first tile).
template <int kN>
__device__ __forceinline__ void online_softmax_step(float (&s)[kN][4], int k0, int t, int len, float mul, float m[2],
                                                    float l[2], float corr[2]) {
    float mx[2] = {-INFINITY, -INFINITY};
    DD_UNROLL
    for (int n = 0; n < kN; ++n)
        DD_UNROLL
        for (int i = 0; i < 4; ++i) {
            s[n][i] = k0 + 8 * n + 2 * t + (i & 1) < len ? s[n][i] * mul : -INFINITY;  // keys past the sequence
            mx[i >> 1] = fmaxf(mx[i >> 1], s[n][i]);
        }
    DD_UNROLL
    for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m[r], mx[r]);  // finite: key k0 < len is valid
        corr[r] = exp2f(m[r] - m_new);
        m[r] = m_new;
        l[r] *= corr[r];
    }
}

// o[n][i] *= its row's correction.
template <int kN>
__device__ __forceinline__ void rescale_rows(float (&o)[kN][4], const float corr[2]) {
    DD_UNROLL
    for (int n = 0; n < kN; ++n)
        DD_UNROLL
        for (int i = 0; i < 4; ++i) o[n][i] *= corr[i >> 1];
}

// Each row's sum over its quad's lanes (the four threads that hold its keys).
__device__ __forceinline__ void quad_sum_rows(float l[2]) {
    DD_UNROLL
    for (int r = 0; r < 2; ++r) {
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
        l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    }
}

}  // namespace dd::cuda_kernels
