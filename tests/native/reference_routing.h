// Naive references of the width-sliced, ragged and routing ops (DyDiT, DiffCR), in the style of
// reference.h: dense row-major host arrays holding the exact fp32 inputs the library got, answers in
// double with a per-element magnitude, plus the exact integer answers of the selection ops.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

#include "reference.h"

namespace ddref {

// (start, length) pairs as the C API takes them.
using Blocks = std::vector<int64_t>;

inline int64_t block_total(const Blocks& blocks) {
    int64_t t = 0;
    for (size_t b = 0; b + 1 < blocks.size(); b += 2) t += blocks[b + 1];
    return t;
}

// y[m, off_b + j] = x[m,:] . w[start_b + j,:] + bias[start_b + j]: the rows of w listed by the blocks,
// gathered into a dense [total, K] weight (and bias), then a plain linear.
inline Expected linear_out_blocks(const std::vector<float>& x, const std::vector<float>& w,
                                  const std::vector<float>& bias, const Blocks& blocks, int64_t M, int64_t K) {
    std::vector<float> wg, bg;
    for (size_t b = 0; b + 1 < blocks.size(); b += 2)
        for (int64_t j = 0; j < blocks[b + 1]; ++j) {
            const int64_t r = blocks[b] + j;
            wg.insert(wg.end(), w.begin() + r * K, w.begin() + (r + 1) * K);
            if (!bias.empty()) bg.push_back(bias[r]);
        }
    return linear(x, wg, bg, M, block_total(blocks), K);
}

// y[m,:] = bias + sum_b x[m, off_b : off_b+len_b] . w[:, start_b : start_b+len_b]^T: the columns of w
// listed by the blocks, gathered into a dense [N, total] weight, then a plain linear.
inline Expected linear_in_blocks(const std::vector<float>& x, const std::vector<float>& w,
                                 const std::vector<float>& bias, const Blocks& blocks, int64_t M, int64_t N,
                                 int64_t K) {
    const int64_t total = block_total(blocks);
    std::vector<float> wg((size_t)(N * total));
    for (int64_t n = 0; n < N; ++n) {
        int64_t off = 0;
        for (size_t b = 0; b + 1 < blocks.size(); b += 2)
            for (int64_t j = 0; j < blocks[b + 1]; ++j) wg[n * total + off++] = w[n * K + blocks[b] + j];
    }
    return linear(x, wg, bias, M, N, total);
}

// The dense form of a width-sliced layer: the packed [M, total] columns put back at the positions the
// (disjoint) blocks name in a [M, width] array, zero everywhere else (the masked channels).
inline std::vector<float> unpack_block_columns(const std::vector<float>& packed, const Blocks& blocks, int64_t M,
                                               int64_t width) {
    const int64_t total = block_total(blocks);
    std::vector<float> out((size_t)(M * width), 0.f);
    for (int64_t m = 0; m < M; ++m) {
        int64_t off = 0;
        for (size_t b = 0; b + 1 < blocks.size(); b += 2)
            for (int64_t j = 0; j < blocks[b + 1]; ++j) out[m * width + blocks[b] + j] = packed[m * total + off++];
    }
    return out;
}

// Ragged rows: row i of x [K,D] is modulated with sample row_sample[i] of shift/scale [S,D]; exactly
// the dense layernorm_modulate applied to one row with that sample's shift and scale.
inline Expected layernorm_modulate_rows(const std::vector<float>& x, const std::vector<float>& shift,
                                        const std::vector<float>& scale, const std::vector<int32_t>& row_sample,
                                        int64_t K, int64_t D, double eps) {
    Expected e = sized((size_t)(K * D));
    for (int64_t i = 0; i < K; ++i) {
        const int64_t s = row_sample[i];
        const std::vector<float> row(x.begin() + i * D, x.begin() + (i + 1) * D);
        const std::vector<float> sh(shift.begin() + s * D, shift.begin() + (s + 1) * D);
        const std::vector<float> sc(scale.begin() + s * D, scale.begin() + (s + 1) * D);
        const Expected r = layernorm_modulate(row, sh, sc, 1, 1, D, eps);
        std::copy(r.value.begin(), r.value.end(), e.value.begin() + i * D);
        std::copy(r.magnitude.begin(), r.magnitude.end(), e.magnitude.begin() + i * D);
    }
    return e;
}

// The keep rule of dd_select_tokens, evaluated the way its header states it: sigmoid in float32,
// then a strict > 0.5f. The volatile load keeps the compiler from folding the expression at another
// precision.
inline bool token_kept_f32(float logit) {
    volatile float v = logit;
    const float x = v;
    return (1.0f / (1.0f + std::exp(-x))) > 0.5f;
}

struct Selection {
    std::vector<int32_t> index, row_sample, counts;
};

// Kept tokens of logits [N,T] as flat ascending indices n*T + t, their sample, per-sample counts.
inline Selection select_tokens(const std::vector<float>& logits, int64_t N, int64_t T) {
    Selection s;
    s.counts.assign((size_t)N, 0);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            if (token_kept_f32(logits[n * T + t])) {
                s.index.push_back((int32_t)(n * T + t));
                s.row_sample.push_back((int32_t)n);
                ++s.counts[n];
            }
    return s;
}

// Per row of scores [N,T]: a stable sort by descending score (equal scores, -0 == +0 included, keep
// the lower index first), the first k taken, written as flat n*T + t in ascending t.
inline std::vector<int32_t> topk_rows(const std::vector<float>& scores, int64_t N, int64_t T, int64_t k) {
    std::vector<int32_t> out;
    std::vector<int32_t> order((size_t)T);
    for (int64_t n = 0; n < N; ++n) {
        const float* s = &scores[n * T];
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [s](int32_t a, int32_t b) { return s[a] > s[b]; });
        std::vector<int32_t> chosen(order.begin(), order.begin() + k);
        std::sort(chosen.begin(), chosen.end());
        for (int32_t t : chosen) out.push_back((int32_t)(n * T + t));
    }
    return out;
}

// x[r,:] * s[r]; the double product of two floats is exact. magnitude = |x s|.
inline Expected scale_rows(const std::vector<float>& x, const std::vector<float>& s, int64_t R, int64_t D) {
    Expected e = sized((size_t)(R * D));
    for (int64_t r = 0; r < R; ++r)
        for (int64_t i = 0; i < D; ++i) {
            e.value[r * D + i] = (double)x[r * D + i] * s[r];
            e.magnitude[r * D + i] = std::fabs(e.value[r * D + i]);
        }
    return e;
}

// 1 / (1 + exp(-x)) in double. magnitude = |value|.
inline Expected sigmoid(const std::vector<float>& x) {
    Expected e = sized(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        e.value[i] = 1.0 / (1.0 + std::exp(-(double)x[i]));
        e.magnitude[i] = e.value[i];
    }
    return e;
}

// max(x, 0): exact.
inline Expected relu(const std::vector<float>& x) {
    Expected e = sized(x.size());
    for (size_t i = 0; i < x.size(); ++i) e.value[i] = e.magnitude[i] = x[i] > 0.f ? (double)x[i] : 0.0;
    return e;
}

}  // namespace ddref
