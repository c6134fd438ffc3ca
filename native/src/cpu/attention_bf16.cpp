// bf16 attention on the CPU: dd_attention (self and cross) and dd_attention_varlen when the calling thread's GEMM
// precision is bf16, on f32 or bf16 operands. f32 q, k, v are first rounded to bf16 into head-major copies
// ([H][rows][Dh]), row by row so the packed qkv is read in order (a head's column strip at a 3 KB row stride read
// directly was memory-latency bound); bf16 ones are read in place by the matmuls (strided operands). Then each
// (sample or sequence, head) is one thread's work: S = Q K^T and O = P V as oneDNN bf16 matmuls with fp32
// accumulation (planned for one thread, so the result does not depend on the team size), and the softmax in fp32
// on S: P holds its numerators exp(scale (s - max)) rounded to bf16, and each row of P V is divided by its fp32
// denominator afterwards (Dh divisions a row instead of Tk). A bf16 output is that fp32 row rounded once: the values
// the f32 output gives a later f32 -> bf16 conversion, so bf16 and f32 operands of equal values agree bit for bit.
// Query rows go in chunks so S stays in cache for long sequences. dd_attention_key_mass and
// dd_attention_with_key_mass stay fp32 in every precision (attention_mass.cpp).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <oneapi/dnnl/dnnl.hpp>
#include <string>

#include "../core/backend.h"
#include "../core/error.h"
#include "../core/half.h"
#include "attention_bf16.h"
#include "cpu_kernels.h"
#include "dnnl_util.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

// Query rows per S = Q K^T product: S is kRowChunk x Tk floats (256 KB at 256 keys).
constexpr int64_t kRowChunk = 256;

// An [N, T, H, Dh] view (Dh contiguous) of f32 (f) or bf16 (b) data; varlen sequences are N = 1, T = R.
struct View {
    const float* f;
    const uint16_t* b;
    int64_t sn, st, sh;
};

// One head's bf16 q rows [Tq, Dh] and k, v rows [Tk, Dh] at row strides (elements); out rows [Tq, Dh] at row stride
// o_st, f32 (o) or bf16 (o16).
struct HeadBlock {
    const uint16_t *q, *k, *v;
    int64_t q_ld, k_ld, v_ld;
    float* o; uint16_t* o16; int64_t o_st;
    int64_t Tq, Tk;
};

// Rounds the view's row (n, t), all heads, into the head-major copy y [N][H][T][Dh].
void round_row(const Kernels& kern, const View& x, uint16_t* y, int64_t n, int64_t t, int64_t T, int64_t H,
               int64_t Dh) {
    for (int64_t h = 0; h < H; ++h)
        kern.round_bf16(x.f + n * x.sn + t * x.st + h * x.sh, y + ((n * H + h) * T + t) * Dh, Dh);
}

void head_bf16(const Kernels& kern, const HeadBlock& b, int64_t Dh, float scale) {
    thread_local GrowBuffer s_buf, p_buf, inv_buf, o_buf;  // only grow: no allocation once shapes are steady
    const int64_t Tk = b.Tk, chunk = std::min(b.Tq, kRowChunk);
    auto* s = static_cast<float*>(s_buf.get(size_t(chunk * Tk) * 4));
    auto* p = static_cast<uint16_t*>(p_buf.get(size_t(chunk * Tk) * 2));
    auto* inv = static_cast<float*>(inv_buf.get(size_t(chunk) * 4));
    auto* o32 = b.o16 ? static_cast<float*>(o_buf.get(size_t(chunk * Dh) * 4)) : nullptr;
    for (int64_t i0 = 0; i0 < b.Tq; i0 += chunk) {
        const int64_t rows = std::min(chunk, b.Tq - i0);
        // S [rows, Tk] = Q [rows, Dh] K^T: K's bf16 rows read as a [Dh, Tk] matrix with strides (1, k_ld)
        bf16_product_serial({b.q + i0 * b.q_ld, b.q_ld, b.k, 1, b.k_ld, s, Tk, rows, Tk, Dh});
        kern.softmax_exp_bf16(s, p, rows, Tk, scale, inv);
        float* o = o32 ? o32 : b.o + i0 * b.o_st;
        const int64_t ld = o32 ? Dh : b.o_st;
        bf16_product_serial({p, Tk, b.v, b.v_ld, 1, o, ld, rows, Dh, Tk});
        if (o32)
            for (int64_t r = 0; r < rows; ++r) kern.scale_to_bf16(o32 + r * Dh, inv[r], b.o16 + (i0 + r) * b.o_st, Dh);
        else
            for (int64_t r = 0; r < rows; ++r)
                for (int64_t d = 0; d < Dh; ++d) o[r * ld + d] *= inv[r];
    }
}

// A bf16 operand as the heads read it: [N, T, H, Dh] at element strides (the view itself, or its head-major copy).
struct Operand {
    const uint16_t* p;
    int64_t sn, st, sh;
};

// q [N, Tq, H, Dh], k and v [N, Tk, H, Dh]; block i of `blocks` is (sample or sequence, head) i as block_at maps it
// onto the operands. The first failure (a oneDNN error or no memory) becomes the status.
template <class BlockAt>
dd_status run_heads(const char* op, const View& q, const View& k, const View& v, int64_t N, int64_t Tq, int64_t Tk,
                    int64_t H, int64_t Dh, float scale, int64_t blocks, BlockAt block_at) {
    const Kernels& kern = kernels();
    thread_local GrowBuffer qkv_buf;  // the calling thread's: the copies of f32 operands in this call
    const bool copy = q.b == nullptr;
    Operand qo{q.b, q.sn, q.st, q.sh}, ko{k.b, k.sn, k.st, k.sh}, vo{v.b, v.sn, v.st, v.sh};
    uint16_t *qb = nullptr, *kb = nullptr, *vb = nullptr;  // the copies
    if (copy) {
        try {
            const size_t nq = size_t(N * H * Tq * Dh), nk = size_t(N * H * Tk * Dh);
            qb = static_cast<uint16_t*>(qkv_buf.get((nq + 2 * nk) * 2));
            kb = qb + nq;
            vb = kb + nk;
            qo = {qb, H * Tq * Dh, Dh, Tq * Dh};
            ko = {kb, H * Tk * Dh, Dh, Tk * Dh};
            vo = {vb, H * Tk * Dh, Dh, Tk * Dh};
        } catch (const std::bad_alloc&) {
            return fail(DD_ERR_OUT_OF_MEMORY, format("%s: out of host memory for bf16 copies of q, k, v", op));
        }
    }
    std::mutex failure_mutex;
    dd_status failed = DD_OK;
    std::string message;
#pragma omp parallel
    {
        if (copy) {
#pragma omp for collapse(2)
            for (int64_t n = 0; n < N; ++n)
                for (int64_t t = 0; t < std::max(Tq, Tk); ++t) {
                    if (t < Tq) round_row(kern, q, qb, n, t, Tq, H, Dh);
                    if (t < Tk) round_row(kern, k, kb, n, t, Tk, H, Dh), round_row(kern, v, vb, n, t, Tk, H, Dh);
                }
        }
#pragma omp for schedule(dynamic)
        for (int64_t i = 0; i < blocks; ++i) {
            const HeadBlock b = block_at(i, qo, ko, vo);
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
    const View q{p.q, p.q16, p.q_sn, p.q_st, p.q_sh}, k{p.k, p.k16, p.k_sn, p.k_st, p.k_sh},
        v{p.v, p.v16, p.v_sn, p.v_st, p.v_sh};
    return run_heads("dd_attention", q, k, v, p.N, p.T, p.Tk, p.H, p.Dh, p.scale, p.N * p.H,
                     [&](int64_t i, const Operand& qo, const Operand& ko, const Operand& vo) {
                         const int64_t n = i / p.H, h = i % p.H, o = n * p.o_sn + h * p.o_sh;
                         return HeadBlock{qo.p + n * qo.sn + h * qo.sh, ko.p + n * ko.sn + h * ko.sh,
                                          vo.p + n * vo.sn + h * vo.sh, qo.st, ko.st, vo.st,
                                          p.o16 ? nullptr : p.o + o, p.o16 ? p.o16 + o : nullptr, p.o_st, p.T, p.Tk};
                     });
}

dd_status attention_varlen_bf16(const AttentionVarlenParams& p) {
    const View q{p.q, p.q16, 0, p.q_st, p.q_sh}, k{p.k, p.k16, 0, p.k_st, p.k_sh}, v{p.v, p.v16, 0, p.v_st, p.v_sh};
    return run_heads("dd_attention_varlen", q, k, v, 1, p.R, p.R, p.H, p.Dh, p.scale, p.B * p.H,
                     [&](int64_t i, const Operand& qo, const Operand& ko, const Operand& vo) {
                         const int64_t b = i / p.H, h = i % p.H;  // sequence b: rows [r0, r0 + len)
                         const int64_t r0 = p.cu_seqlens[b], len = p.cu_seqlens[b + 1] - r0;
                         const int64_t o = r0 * p.o_st + h * p.o_sh;
                         return HeadBlock{qo.p + r0 * qo.st + h * qo.sh, ko.p + r0 * ko.st + h * ko.sh,
                                          vo.p + r0 * vo.st + h * vo.sh, qo.st, ko.st, vo.st,
                                          p.o16 ? nullptr : p.o + o, p.o16 ? p.o16 + o : nullptr, p.o_st, len, len};
                     });
}

}  // namespace dd::cpu

namespace dd::cpu {
namespace {

// An [N, T, H, Dh] operand's values as bf16 rounds them (f32 rounded to nearest even, bf16 widened exactly) into a
// contiguous f32 copy y [N, T, H, Dh]: one vectorizable pass a row.
void bf16_values(const View& x, float* y, int64_t N, int64_t T, int64_t H, int64_t Dh) {
#pragma omp parallel for collapse(3)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h) {
                const int64_t at = n * x.sn + t * x.st + h * x.sh;
                float* out = y + ((n * T + t) * H + h) * Dh;
                if (x.b) {
                    const uint16_t* b = x.b + at;
#pragma omp simd
                    for (int64_t d = 0; d < Dh; ++d) out[d] = bf16_to_f32(b[d]);
                } else {
                    const float* f = x.f + at;
#pragma omp simd
                    for (int64_t d = 0; d < Dh; ++d) out[d] = bf16_to_f32(f32_to_bf16(f[d]));
                }
            }
}

// Rounds the contiguous f32 result o [N, T, H, Dh] into the bf16 view out.
void round_out(const Kernels& kern, const float* o, uint16_t* out, int64_t sn, int64_t st, int64_t sh, int64_t N,
               int64_t T, int64_t H, int64_t Dh) {
#pragma omp parallel for collapse(3)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t h = 0; h < H; ++h)
                kern.round_bf16(o + ((n * T + t) * H + h) * Dh, out + n * sn + t * st + h * sh, Dh);
}

// The calling thread's copies: q, k, v and (bf16 out) the f32 result, each `n[i]` floats; throws std::bad_alloc.
float* small_head_buffers(const int64_t (&n)[4], float* (&at)[4]) {
    thread_local GrowBuffer buf;
    auto* p = static_cast<float*>(buf.get(size_t(n[0] + n[1] + n[2] + n[3]) * 4));
    at[0] = p, at[1] = at[0] + n[0], at[2] = at[1] + n[1], at[3] = at[2] + n[2];
    return p;
}

}  // namespace

dd_status attention_small_bf16(const AttentionParams& p, dd_status (*f32_attention)(const AttentionParams&)) {
    const Kernels& kern = kernels();
    const int64_t nq = p.N * p.T * p.H * p.Dh, nk = p.N * p.Tk * p.H * p.Dh;
    float* at[4];
    try {
        small_head_buffers({nq, nk, nk, p.o16 ? nq : 0}, at);
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, "dd_attention: out of host memory for the bf16 values of q, k, v");
    }
    bf16_values({p.q, p.q16, p.q_sn, p.q_st, p.q_sh}, at[0], p.N, p.T, p.H, p.Dh);
    bf16_values({p.k, p.k16, p.k_sn, p.k_st, p.k_sh}, at[1], p.N, p.Tk, p.H, p.Dh);
    bf16_values({p.v, p.v16, p.v_sn, p.v_st, p.v_sh}, at[2], p.N, p.Tk, p.H, p.Dh);
    AttentionParams f = p;
    const int64_t q_sn = p.T * p.H * p.Dh, k_sn = p.Tk * p.H * p.Dh, st = p.H * p.Dh;
    f.q = at[0], f.q_sn = q_sn, f.q_st = st, f.q_sh = p.Dh;
    f.k = at[1], f.k_sn = k_sn, f.k_st = st, f.k_sh = p.Dh;
    f.v = at[2], f.v_sn = k_sn, f.v_st = st, f.v_sh = p.Dh;
    f.q16 = f.k16 = f.v16 = nullptr, f.o16 = nullptr;
    if (p.o16) f.o = at[3], f.o_sn = q_sn, f.o_st = st, f.o_sh = p.Dh;
    if (dd_status s = f32_attention(f)) return s;
    if (p.o16) round_out(kern, at[3], p.o16, p.o_sn, p.o_st, p.o_sh, p.N, p.T, p.H, p.Dh);
    return DD_OK;
}

dd_status attention_varlen_small_bf16(const AttentionVarlenParams& p,
                                      dd_status (*f32_attention)(const AttentionVarlenParams&)) {
    const Kernels& kern = kernels();
    const int64_t n = p.R * p.H * p.Dh;
    float* at[4];
    try {
        small_head_buffers({n, n, n, p.o16 ? n : 0}, at);
    } catch (const std::bad_alloc&) {
        return fail(DD_ERR_OUT_OF_MEMORY, "dd_attention_varlen: out of host memory for the bf16 values of q, k, v");
    }
    bf16_values({p.q, p.q16, 0, p.q_st, p.q_sh}, at[0], 1, p.R, p.H, p.Dh);
    bf16_values({p.k, p.k16, 0, p.k_st, p.k_sh}, at[1], 1, p.R, p.H, p.Dh);
    bf16_values({p.v, p.v16, 0, p.v_st, p.v_sh}, at[2], 1, p.R, p.H, p.Dh);
    AttentionVarlenParams f = p;
    const int64_t st = p.H * p.Dh;
    f.q = at[0], f.q_st = st, f.q_sh = p.Dh;
    f.k = at[1], f.k_st = st, f.k_sh = p.Dh;
    f.v = at[2], f.v_st = st, f.v_sh = p.Dh;
    f.q16 = f.k16 = f.v16 = nullptr, f.o16 = nullptr;
    if (p.o16) f.o = at[3], f.o_st = st, f.o_sh = p.Dh;
    if (dd_status s = f32_attention(f)) return s;
    if (p.o16) round_out(kern, at[3], p.o16, 0, p.o_st, p.o_sh, 1, p.R, p.H, p.Dh);
    return DD_OK;
}

}  // namespace dd::cpu
