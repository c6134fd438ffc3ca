// CPU forms of the DyDiT ops: width-sliced GEMMs (one oneDNN matmul over the kept blocks of the weights, or of their
// bf16 copy, packed side by side), ragged-row LayerNorm, token selection.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/backend.h"
#include "cpu_kernels.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

// w as the product's B operand: fp32 in place, or its bf16 copy (same layout, row stride ld).
struct Weights {
    const float* f32;
    const uint16_t* bf16;  // null in fp32
    int64_t ld;            // row stride of whichever is used
    const void* at(int64_t row, int64_t col) const {
        return bf16 ? static_cast<const void*>(bf16 + row * ld + col) : f32 + row * ld + col;
    }
};

Weights weights(const BlockLinearParams& p) {
    if (thread_uses_bf16() && p.N > 0 && p.K > 0) return {p.w, bf16_weights(p.w, p.N, p.K, p.w_row_stride), p.K};
    return {p.w, nullptr, p.w_row_stride};
}

// The kept blocks of w packed into one contiguous [rows, cols] matrix, so the sliced product is one matmul (one
// parallel region, full-width kernels) instead of one per head or MLP group. The buffer is per thread and only grows.
// Packing reads the kept weights once (~5% of the matmul's time at DiT-B/2 batch-8 shapes).
struct Packed {
    const void* data;
    int64_t ld;
};

template <class T, int Use = 0>  // Use: 0 weights, 1 bias (separate buffers)
T* pack_buffer(size_t n) {
    thread_local std::vector<T> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

// Rows [start, start + len) of each block, stacked (out-blocks).
template <class T>
Packed pack_rows(const T* w, int64_t ld, const BlockLinearParams& p, int64_t rows) {
    T* dst = pack_buffer<T>(size_t(rows) * size_t(p.K));
    int64_t r0 = 0;
    for (int b = 0; b < p.nblocks; ++b) {
        const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
#pragma omp parallel for if (len * p.K >= (1 << 16))
        for (int64_t r = 0; r < len; ++r) std::memcpy(dst + (r0 + r) * p.K, w + (start + r) * ld, sizeof(T) * p.K);
        r0 += len;
    }
    return {dst, p.K};
}

// Columns [start, start + len) of each block, side by side (in-blocks).
template <class T>
Packed pack_cols(const T* w, int64_t ld, const BlockLinearParams& p, int64_t cols) {
    T* dst = pack_buffer<T>(size_t(p.N) * size_t(cols));
#pragma omp parallel for if (p.N * cols >= (1 << 16))
    for (int64_t n = 0; n < p.N; ++n) {
        int64_t c0 = 0;
        for (int b = 0; b < p.nblocks; ++b) {
            const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
            std::memcpy(dst + n * cols + c0, w + n * ld + start, sizeof(T) * len);
            c0 += len;
        }
    }
    return {dst, cols};
}

int64_t kept(const BlockLinearParams& p) {
    int64_t total = 0;
    for (int b = 0; b < p.nblocks; ++b) total += p.blocks[2 * b + 1];
    return total;
}

}  // namespace

// y[:, 0:kept) = x w[kept rows]^T + bias[kept rows]: one matmul over the packed rows (in place for one block).
dd_status linear_out_blocks(const BlockLinearParams& p) {
    const int64_t rows = kept(p);
    if (rows == 0 || p.M == 0) return DD_OK;
    const Weights w = weights(p);
    const bool bf16 = w.bf16 != nullptr;
    Packed b{w.at(p.blocks[0], 0), w.ld};
    const float* bias = p.bias ? p.bias + p.blocks[0] : nullptr;
    if (p.nblocks > 1) {
        b = bf16 ? pack_rows(w.bf16, w.ld, p, rows) : pack_rows(w.f32, w.ld, p, rows);
        if (p.bias) {
            float* packed = pack_buffer<float, 1>(size_t(rows));
            int64_t r0 = 0;
            for (int i = 0; i < p.nblocks; ++i) {
                std::memcpy(packed + r0, p.bias + p.blocks[2 * i], sizeof(float) * p.blocks[2 * i + 1]);
                r0 += p.blocks[2 * i + 1];
            }
            bias = packed;
        }
    }
    const Gemm g{p.x, p.x_row_stride, 1, b.data, 1, b.ld, bf16, bias, p.y, p.y_row_stride, p.M, rows, p.K, false};
    return gemm("dd_linear_out_blocks", g);
}

// y = x[:, 0:kept) w[:, kept columns]^T + bias: one matmul over the packed columns (in place for one block).
dd_status linear_in_blocks(const BlockLinearParams& p) {
    const int64_t cols = kept(p);
    const Weights w = weights(p);
    const bool bf16 = w.bf16 != nullptr && cols > 0;
    Packed b{cols > 0 ? w.at(0, p.blocks[0]) : p.w, cols > 0 ? w.ld : p.w_row_stride};
    if (p.nblocks > 1 && cols > 0) b = bf16 ? pack_cols(w.bf16, w.ld, p, cols) : pack_cols(w.f32, w.ld, p, cols);
    // cols = 0: no input columns, y = bias (or 0)
    const Gemm g{p.x, p.x_row_stride, 1, b.data, 1, b.ld, bf16, p.bias, p.y, p.y_row_stride, p.M, p.N, cols, false};
    return gemm("dd_linear_in_blocks", g);
}

dd_status layernorm_modulate_rows(const LayerNormRowsParams& p) {
    const Kernels& k = kernels();
#pragma omp parallel for if (p.K * p.D >= (1 << 15))
    for (int64_t i = 0; i < p.K; ++i) {
        const int64_t s = p.row_sample[i];
        k.layernorm_modulate_row(p.x + i * p.x_rs, p.y + i * p.y_rs, p.shift + s * p.shift_rs, p.scale + s * p.scale_rs,
                                 p.D, p.eps);
    }
    return DD_OK;
}

// sigmoid in float32 as the reference computes it, then the strict > 0.5 threshold.
dd_status select_tokens(const SelectTokensParams& p) {
    int64_t k = 0;
    for (int64_t n = 0; n < p.N; ++n) {
        int32_t count = 0;
        const float* l = p.logits + n * p.logits_rs;
        for (int64_t t = 0; t < p.T; ++t) {
            const float s = 1.0f / (1.0f + std::exp(-l[t]));
            if (s > 0.5f) {
                p.index[k] = (int32_t)(n * p.T + t);
                p.row_sample[k] = (int32_t)n;
                ++k;
                ++count;
            }
        }
        p.counts[n] = count;
    }
    return DD_OK;
}

dd_status relu(const UnaryParams& p) {
#pragma omp parallel for simd if (p.n >= (1 << 16))
    for (int64_t i = 0; i < p.n; ++i) p.y[i] = p.x[i] > 0.f ? p.x[i] : 0.f;
    return DD_OK;
}

}  // namespace dd::cpu
