// CPU forms of the DyDiT ops: width-sliced GEMMs (oneDNN matmuls on the kept blocks of the weights read in place, or
// of their bf16 copy), ragged-row LayerNorm, token selection.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "../core/backend.h"
#include "../core/error.h"
#include "cpu_kernels.h"
#include "dnnl_util.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

// w as the products' B operand: fp32 in place, or in bf16 each kept block's slice of w packed once into oneDNN's
// layout (Gemm::b_pack, cached under the slice's address: a plain weight would be repacked on every call, and these
// calls have few rows each).
struct Weights {
    const float* f32;
    int64_t ld;
    bool bf16;
    const void* at(int64_t row, int64_t col) const { return f32 + row * ld + col; }
};

Weights weights(const BlockLinearParams& p) { return {p.w, p.w_row_stride, thread_uses_bf16()}; }

// bf16 activations, as dd_linear's, need the bf16 GEMM precision.
dd_status check_bf16_activations(const char* op, const BlockLinearParams& p) {
    return require_bf16_precision(op, p.x_bf16 ? "x" : "y", p.x_bf16 || p.y_bf16);
}

// Runs body(m0, m1) -> dd_status over row chunks: one OpenMP region whose threads each run the blocks' matmuls on
// their rows (oneDNN runs single-threaded inside it), reading the kept weights in place; small work stays on the
// calling thread, where oneDNN threads each matmul itself. Packing the kept blocks into one matrix instead copied
// the weights per call (per timestep group) and made DyDiT's speed lag its MACs. A worker's failure message is
// carried back to the calling thread.
template <class F>
dd_status for_row_chunks(int64_t M, int64_t work_per_row, F&& body) {
    const int threads = omp_get_max_threads();
    if (threads == 1 || M * work_per_row < (1 << 20) || M < 2 * threads) return body(0, M);
    dd_status failed = DD_OK;
    std::string message;
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads(), step = (M + n - 1) / n;
        if (dd_status s = body(std::min(M, t * step), std::min(M, (t + 1) * step))) {
#pragma omp critical(dd_sliced_failure)
            if (failed == DD_OK) failed = s, message = dd_last_error();
        }
    }
    return failed == DD_OK ? DD_OK : fail(failed, message);
}

// out = n elements of a thread's grow-only buffer, or DD_ERR_OUT_OF_MEMORY naming the op and what they were for.
template <class T>
dd_status scratch(GrowBuffer& b, size_t n, const char* op, const char* what, T*& out) {
    try {
        out = static_cast<T*>(b.get(n * sizeof(T)));
        return DD_OK;
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, std::string(op) + ": out of host memory for " + what);
    }
}

// Rows of `row_bytes` each that fit in `bytes` (at least 32: a piece keeps the product's row blocking). Measured on
// DyDiT-B/2 b8's half-width slices, 12 weights in turn (ms a call, whole 1024-row share vs pieces): fc1 + GELU
// 2.61-2.74 vs 2.23-2.29 (512 rows), fc2 + gated add 2.39-2.49 vs 2.13-2.19 (256 rows), proj 0.70-0.72 vs 0.61-0.63.
int64_t rows_within(size_t bytes, int64_t row_bytes) {
    return std::max<int64_t>(32, int64_t(bytes) / std::max<int64_t>(1, row_bytes));
}

int64_t kept(const BlockLinearParams& p) {
    int64_t total = 0;
    for (int b = 0; b < p.nblocks; ++b) total += p.blocks[2 * b + 1];
    return total;
}

// Each block of output rows of w is one matmul into its columns of y, per row chunk. In bf16 the chunk's rows of x
// are rounded to bf16 once (each block's product would otherwise round all of x again). gelu (a bf16 y): the chunk's
// rows then take the GELU in place on the thread that wrote them, while they are still in its cache (the kernel
// dd_gelu_tanh runs on bf16, element by element).
dd_status out_blocks(const char* op, const BlockLinearParams& p, bool gelu) {
    if (dd_status s = check_bf16_activations(op, p)) return s;
    const Weights w = weights(p);
    const int64_t total = kept(p);
    return for_row_chunks(p.M, p.K * total, [&](int64_t m0, int64_t m1) -> dd_status {
        const void* x = p.x_bf16 ? static_cast<const void*>(p.x_bf16 + m0 * p.x_row_stride)
                                 : static_cast<const void*>(p.x + m0 * p.x_row_stride);
        int64_t ldx = p.x_row_stride;
        if (w.bf16 && !p.x_bf16) {
            thread_local GrowBuffer x_bf16;  // this thread's rows: grows only
            uint16_t* r;
            if (dd_status s = scratch(x_bf16, size_t((m1 - m0) * p.K), op, "x in bf16", r)) return s;
            const Kernels& k = kernels();
            for (int64_t m = m0; m < m1; ++m) k.round_bf16(p.x + m * p.x_row_stride, r + (m - m0) * p.K, p.K);
            x = r, ldx = p.K;
        }
        // with the GELU: pieces of rows whose bf16 output (1.5 MiB) stays in this core's L2 until the GELU reads it
        const int64_t piece = gelu ? rows_within(size_t(1.5 * (1 << 20)), total * 2) : m1 - m0;
        for (int64_t s0 = m0; s0 < m1; s0 += piece) {
            const int64_t s1 = std::min(m1, s0 + piece);
            const void* xs = static_cast<const char*>(x) + size_t((s0 - m0) * ldx) * (w.bf16 ? 2 : 4);
            int64_t off = 0;
            for (int b = 0; b < p.nblocks; ++b) {
                const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
                const int64_t at = s0 * p.y_row_stride + off;
                void* y = p.y_bf16 ? static_cast<void*>(p.y_bf16 + at) : static_cast<void*>(p.y + at);
                Gemm g{xs, ldx, 1, w.at(start, 0), 1, w.ld, w.bf16, p.bias ? p.bias + start : nullptr,
                       y, p.y_row_stride, s1 - s0, len, p.K, false};
                g.a_bf16 = w.bf16;
                g.c_bf16 = p.y_bf16 != nullptr;
                g.b_pack = w.bf16;
                if (dd_status s = gemm(op, g)) return s;
                off += len;
            }
            if (gelu) {
                const Kernels& k = kernels();
                for (int64_t m = s0; m < s1; ++m) k.gelu_tanh_bf16(p.y_bf16 + m * p.y_row_stride, total);
            }
        }
        return DD_OK;
    });
}

// Rows m0..m1 of the in-blocks product into y (row stride ldy): the first kept block writes them and the bias, the
// others add theirs.
dd_status in_blocks_rows(const char* op, const BlockLinearParams& p, const Weights& w, int64_t m0, int64_t m1, float* y,
                         int64_t ldy) {
    const size_t x_elem = p.x_bf16 ? 2 : 4;
    const char* x0 = p.x_bf16 ? reinterpret_cast<const char*>(p.x_bf16) : reinterpret_cast<const char*>(p.x);
    int64_t off = 0;
    bool written = false;
    for (int b = 0; b < p.nblocks; ++b) {
        const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
        if (len > 0) {
            Gemm g{x0 + size_t(m0 * p.x_row_stride + off) * x_elem, p.x_row_stride, 1, w.at(0, start), 1, w.ld,
                   w.bf16, written ? nullptr : p.bias, y, ldy, m1 - m0, p.N, len, written};
            g.a_bf16 = p.x_bf16 != nullptr;
            g.b_pack = w.bf16;
            if (dd_status s = gemm(op, g)) return s;
            written = true;
        }
        off += len;
    }
    if (written) return DD_OK;
    // no input columns: y = bias (or 0)
    const Gemm g{p.x, p.x_row_stride, 1, p.w, 1, p.w_row_stride, false, p.bias, y, ldy, m1 - m0, p.N, 0, false};
    return gemm(op, g);
}

// Each block of input columns adds its matmul into y, per row chunk. gated: the chunk's sum goes to this thread's
// scratch rows, then h (p.y) += gate * those rows by dd_gated_residual_add's kernel, while they are in its cache.
dd_status in_blocks(const char* op, const BlockLinearParams& p, bool gated) {
    if (dd_status s = check_bf16_activations(op, p)) return s;
    const Weights w = weights(p);
    return for_row_chunks(p.M, p.N * kept(p), [&](int64_t m0, int64_t m1) -> dd_status {
        if (!gated) return in_blocks_rows(op, p, w, m0, m1, p.y + m0 * p.y_row_stride, p.y_row_stride);
        // pieces of rows whose f32 sums (768 KiB) stay in this core's L2 until the gated add reads them
        const int64_t piece = std::min(m1 - m0, rows_within(768 << 10, p.N * 4));
        thread_local GrowBuffer sums;  // this thread's rows: grows only
        float* r;
        if (dd_status s = scratch(sums, size_t(piece * p.N), op, "the product's rows", r)) return s;
        const Kernels& k = kernels();
        for (int64_t s0 = m0; s0 < m1; s0 += piece) {
            const int64_t s1 = std::min(m1, s0 + piece);
            if (dd_status s = in_blocks_rows(op, p, w, s0, s1, r, p.N)) return s;
            for (int64_t m = s0; m < s1; ++m)
                k.gated_add_row(p.y + m * p.y_row_stride, r + (m - s0) * p.N,
                                p.gate ? p.gate + (m / p.rows_per_sample) * p.gate_rs : nullptr, p.N);
        }
        return DD_OK;
    });
}

}  // namespace

dd_status linear_out_blocks(const BlockLinearParams& p) { return out_blocks("dd_linear_out_blocks", p, false); }

// An f32 y takes the GELU after, in dd_gelu_tanh's chunks (as dd_linear_gelu's f32 y), for the same bits.
dd_status linear_out_blocks_gelu(const BlockLinearParams& p) {
    if (p.y_bf16) return out_blocks("dd_linear_out_blocks_gelu", p, true);
    if (dd_status s = out_blocks("dd_linear_out_blocks_gelu", p, false)) return s;
    return gelu_rows(p.y, p.y_row_stride, p.M, kept(p));
}

dd_status linear_in_blocks(const BlockLinearParams& p) { return in_blocks("dd_linear_in_blocks", p, false); }

dd_status linear_in_blocks_gated_residual(const BlockLinearParams& p) {
    return in_blocks("dd_linear_in_blocks_gated_residual", p, true);
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
    const float* x = p.x;  // locals: through p's fields the loop was not vectorized (it compiled scalar, branching)
    float* y = p.y;
    const int64_t n = p.n;
    // `if (parallel: ...)`: a bare `if` on a combined construct also turns its simd off, and below 2^18 elements the
    // loop ran scalar and branching (DyDiT-B's router hidden, 98K floats: 400 us, 4 ns an element)
#pragma omp parallel for simd if (parallel : n >= (1 << 18))
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] > 0.f ? x[i] : 0.f;
    return DD_OK;
}

}  // namespace dd::cpu
