// bf16 attention on the CPU: dd_attention (self and cross) and dd_attention_varlen when the calling thread's GEMM
// precision is bf16. First q, k, v are rounded to bf16 into head-major copies ([H][rows][Dh]), row by row so the
// packed qkv is read in order (a head's column strip at a 3 KB row stride read directly was memory-latency bound);
// then each (sample or sequence, head) is one thread's work: S = Q K^T and O = P V as oneDNN bf16 matmuls with fp32
// accumulation (planned for one thread, so the result does not depend on the team size), and the softmax in fp32
// on S: P holds its numerators exp(scale (s - max)) rounded to bf16, and each row of P V is divided by its fp32
// denominator afterwards (Dh divisions a row instead of Tk). Query rows go in chunks so S stays in cache for long
// sequences. dd_attention_key_mass and dd_attention_with_key_mass stay fp32 in every precision (attention_mass.cpp).
#include <omp.h>

#include <algorithm>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "../core/backend.h"
#include "../core/error.h"
#include "attention_bf16.h"
#include "cpu_kernels.h"
#include "dnnl_util.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

// Query rows per S = Q K^T product: S is kRowChunk x Tk floats (256 KB at 256 keys).
constexpr int64_t kRowChunk = 256;

// An [N, T, H, Dh] fp32 view (Dh contiguous); varlen sequences are N = 1, T = R.
struct View {
    const float* p;
    int64_t sn, st, sh;
};

// One head's bf16 q rows [Tq, Dh] and k, v rows [Tk, Dh] (contiguous), fp32 out rows [Tq, Dh] at row stride o_st.
struct HeadBlock {
    const uint16_t *q, *k, *v;
    float* o; int64_t o_st;
    int64_t Tq, Tk;
};

// Rounds the view's row (n, t), all heads, into the head-major copy y [N][H][T][Dh].
void round_row(const Kernels& kern, const View& x, uint16_t* y, int64_t n, int64_t t, int64_t T, int64_t H,
               int64_t Dh) {
    for (int64_t h = 0; h < H; ++h)
        kern.round_bf16(x.p + n * x.sn + t * x.st + h * x.sh, y + ((n * H + h) * T + t) * Dh, Dh);
}

void head_bf16(const Kernels& kern, const HeadBlock& b, int64_t Dh, float scale) {
    thread_local GrowBuffer s_buf, p_buf, inv_buf;  // only grow: no allocation once shapes are steady
    const int64_t Tk = b.Tk, chunk = std::min(b.Tq, kRowChunk);
    auto* s = static_cast<float*>(s_buf.get(size_t(chunk * Tk) * 4));
    auto* p = static_cast<uint16_t*>(p_buf.get(size_t(chunk * Tk) * 2));
    auto* inv = static_cast<float*>(inv_buf.get(size_t(chunk) * 4));
    for (int64_t i0 = 0; i0 < b.Tq; i0 += chunk) {
        const int64_t rows = std::min(chunk, b.Tq - i0);
        // S [rows, Tk] = Q [rows, Dh] K^T: K's bf16 rows read as a [Dh, Tk] matrix with strides (1, Dh)
        bf16_product_serial({b.q + i0 * Dh, Dh, b.k, 1, Dh, s, Tk, rows, Tk, Dh});
        for (int64_t r = 0; r < rows; ++r) inv[r] = 1.0f / kern.softmax_exp_bf16(s + r * Tk, p + r * Tk, Tk, scale);
        float* o = b.o + i0 * b.o_st;
        bf16_product_serial({p, Tk, b.v, Dh, 1, o, b.o_st, rows, Dh, Tk});
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t d = 0; d < Dh; ++d) o[r * b.o_st + d] *= inv[r];
    }
}

// q [N, Tq, H, Dh], k and v [N, Tk, H, Dh]; block i of `blocks` is (sample or sequence, head) i as block_at maps it
// onto the head-major copies. The first failure (a oneDNN error or no memory) becomes the status.
template <class BlockAt>
dd_status run_heads(const char* op, const View& q, const View& k, const View& v, int64_t N, int64_t Tq, int64_t Tk,
                    int64_t H, int64_t Dh, float scale, int64_t blocks, BlockAt block_at) {
    const Kernels& kern = kernels();
    thread_local GrowBuffer qkv_buf;  // the calling thread's: the copies of this call
    uint16_t *qb, *kb, *vb;
    try {
        const size_t nq = size_t(N * H * Tq * Dh), nk = size_t(N * H * Tk * Dh);
        qb = static_cast<uint16_t*>(qkv_buf.get((nq + 2 * nk) * 2));
        kb = qb + nq;
        vb = kb + nk;
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, format("%s: out of host memory for bf16 copies of q, k, v", op));
    }
    std::mutex failure_mutex;
    dd_status failed = DD_OK;
    std::string message;
#pragma omp parallel
    {
#pragma omp for collapse(2)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t t = 0; t < std::max(Tq, Tk); ++t) {
                if (t < Tq) round_row(kern, q, qb, n, t, Tq, H, Dh);
                if (t < Tk) round_row(kern, k, kb, n, t, Tk, H, Dh), round_row(kern, v, vb, n, t, Tk, H, Dh);
            }
#pragma omp for schedule(dynamic)
        for (int64_t i = 0; i < blocks; ++i) {
            const HeadBlock b = block_at(i, qb, kb, vb);
            if (b.Tq == 0) continue;
            try {
                head_bf16(kern, b, Dh, scale);
            } catch (const dnnl::error& e) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (failed == DD_OK)
                    failed = DD_ERR_INTERNAL,
                    message = format("%s: oneDNN bf16 attention matmul (%lld queries, %lld keys, head size %lld) "
                                     "failed: %s", op, (long long)b.Tq, (long long)b.Tk, (long long)Dh, e.what());
            } catch (const std::bad_alloc&) {
                std::lock_guard<std::mutex> lock(failure_mutex);
                if (failed == DD_OK)
                    failed = DD_ERR_OUT_OF_MEMORY,
                    message = format("%s: out of host memory for bf16 attention buffers (%lld queries, %lld keys)",
                                     op, (long long)b.Tq, (long long)b.Tk);
            }
        }
    }
    return failed == DD_OK ? DD_OK : fail(failed, message);
}

}  // namespace

dd_status attention_bf16(const AttentionParams& p) {
    const View q{p.q, p.q_sn, p.q_st, p.q_sh}, k{p.k, p.k_sn, p.k_st, p.k_sh}, v{p.v, p.v_sn, p.v_st, p.v_sh};
    return run_heads("dd_attention", q, k, v, p.N, p.T, p.Tk, p.H, p.Dh, p.scale, p.N * p.H,
                     [&](int64_t i, const uint16_t* qb, const uint16_t* kb, const uint16_t* vb) {
                         const int64_t n = i / p.H, h = i % p.H;  // copies: block i at i * rows * Dh
                         return HeadBlock{qb + i * p.T * p.Dh, kb + i * p.Tk * p.Dh, vb + i * p.Tk * p.Dh,
                                          p.o + n * p.o_sn + h * p.o_sh, p.o_st, p.T, p.Tk};
                     });
}

dd_status attention_varlen_bf16(const AttentionVarlenParams& p) {
    const View q{p.q, 0, p.q_st, p.q_sh}, k{p.k, 0, p.k_st, p.k_sh}, v{p.v, 0, p.v_st, p.v_sh};
    return run_heads("dd_attention_varlen", q, k, v, 1, p.R, p.R, p.H, p.Dh, p.scale, p.B * p.H,
                     [&](int64_t i, const uint16_t* qb, const uint16_t* kb, const uint16_t* vb) {
                         const int64_t b = i / p.H, h = i % p.H;  // copies [H][R][Dh]: sequence b at rows r0
                         const int64_t r0 = p.cu_seqlens[b], len = p.cu_seqlens[b + 1] - r0;
                         const int64_t at = (h * p.R + r0) * p.Dh;
                         return HeadBlock{qb + at, kb + at, vb + at, p.o + r0 * p.o_st + h * p.o_sh, p.o_st, len, len};
                     });
}

}  // namespace dd::cpu
