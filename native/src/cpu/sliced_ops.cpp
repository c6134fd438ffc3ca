// CPU forms of the DyDiT ops: width-sliced GEMMs that read weights in place, ragged-row LayerNorm,
// token selection. BLAS runs single-threaded inside OpenMP row chunks (see backend_cpu.cpp).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/backend.h"
#include "cpu_kernels.h"

namespace dd::cpu {
namespace {

// Runs body(m0, m1) over row chunks, in parallel when the work is worth it.
template <class F>
void for_row_chunks(int64_t M, int64_t work_per_row, F&& body) {
    const int threads = omp_get_max_threads();
    if (threads == 1 || M * work_per_row < (1 << 20) || M < 2 * threads) {
        body(0, M);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        const int64_t t = omp_get_thread_num(), n = omp_get_num_threads(), step = (M + n - 1) / n;
        body(std::min(M, t * step), std::min(M, (t + 1) * step));
    }
}

void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b, int64_t ldb, float beta,
              float* c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f, a, (blasint)lda, b,
                (blasint)ldb, beta, c, (blasint)ldc);
}

}  // namespace

dd_status linear_out_blocks(const BlockLinearParams& p) {
    for_row_chunks(p.M, p.K * (p.nblocks ? p.N : 0), [&](int64_t m0, int64_t m1) {
        int64_t off = 0;
        for (int b = 0; b < p.nblocks; ++b) {
            const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
            float* y = p.y + m0 * p.y_row_stride + off;
            if (p.bias) {
                for (int64_t m = m0; m < m1; ++m)
                    std::memcpy(p.y + m * p.y_row_stride + off, p.bias + start, sizeof(float) * len);
            }
            if (p.K > 0)
                sgemm_nt(m1 - m0, len, p.K, p.x + m0 * p.x_row_stride, p.x_row_stride, p.w + start * p.w_row_stride,
                         p.w_row_stride, p.bias ? 1.f : 0.f, y, p.y_row_stride);
            else if (!p.bias)
                for (int64_t m = m0; m < m1; ++m) std::memset(p.y + m * p.y_row_stride + off, 0, sizeof(float) * len);
            off += len;
        }
    });
    return DD_OK;
}

dd_status linear_in_blocks(const BlockLinearParams& p) {
    for_row_chunks(p.M, p.N * p.K, [&](int64_t m0, int64_t m1) {
        for (int64_t m = m0; m < m1; ++m) {
            float* y = p.y + m * p.y_row_stride;
            if (p.bias) std::memcpy(y, p.bias, sizeof(float) * p.N);
            else std::memset(y, 0, sizeof(float) * p.N);
        }
        int64_t off = 0;
        for (int b = 0; b < p.nblocks; ++b) {
            const int64_t start = p.blocks[2 * b], len = p.blocks[2 * b + 1];
            if (len > 0)
                sgemm_nt(m1 - m0, p.N, len, p.x + m0 * p.x_row_stride + off, p.x_row_stride, p.w + start,
                         p.w_row_stride, 1.f, p.y + m0 * p.y_row_stride, p.y_row_stride);
            off += len;
        }
    });
    return DD_OK;
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
