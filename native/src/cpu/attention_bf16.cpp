// bf16 attention on the CPU: dd_attention (self and cross) and dd_attention_varlen when the calling thread's GEMM
// precision is bf16, on f32 or bf16 operands. f32 q, k, v are first rounded to bf16 into head-major copies
// ([H][rows][Dh]), row by row so the packed qkv is read in order (a head's column strip at a 3 KB row stride read
// directly was memory-latency bound); bf16 ones are read in place by the matmuls (strided operands). Then each
// (sample or sequence, group of heads) is one thread's work: S = Q K^T and O = P V as oneDNN bf16 matmuls batched over
// the group's heads with fp32 accumulation (planned for one thread, so the result does not depend on the team size;
// the group's size depends only on the shape), and the softmax in fp32 on S: P holds its numerators
// exp(scale (s - max)) rounded to bf16, and each row of P V is divided by its fp32 denominator afterwards (Dh
// divisions a row instead of Tk). A bf16 output is that fp32 row rounded once: the values the f32 output gives a later
// f32 -> bf16 conversion, so bf16 and f32 operands of equal values agree bit for bit. Query rows go in chunks so S
// stays in cache for long sequences. dd_attention_key_mass and dd_attention_with_key_mass stay fp32 in every
// precision (attention_mass.cpp).
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

// An [N, T, H, Dh] view (Dh contiguous) of f32 (f) or bf16 (b) data; varlen sequences are N = 1, T = R.
struct View {
    const float* f;
    const uint16_t* b;
    int64_t sn, st, sh;
};

// G heads of one sample or sequence: head g's bf16 q rows [Tq, Dh] at q + g q_hs and k, v rows [Tk, Dh] at k + g k_hs,
// v + g v_hs (row strides q_ld, k_ld, v_ld elements); out rows [Tq, Dh] at row stride o_st, head g at g o_hs, f32 (o)
// or bf16 (o16).
struct HeadBlock {
    const uint16_t *q, *k, *v;
    int64_t q_ld, k_ld, v_ld, q_hs, k_hs, v_hs;
    float* o; uint16_t* o16; int64_t o_st, o_hs;
    int64_t Tq, Tk, G;
};

// Heads per matmul call: one primitive's fixed cost (brgemm set-up, AMX tile configuration) shared by several heads
// while their scores stay within 64 Ki floats (one head at 256 x 256), and at least 8 calls in all (work for a few
// threads). A function of the shape only, not of the team size, like everything the results depend on. dyndit_bench,
// B/2 b8 bf16 operands (ms, one head a call / this): 64 tokens 0.22-0.25 with twelve heads a call (the fp32 kernel,
// which ran heads this small before: 0.75-0.81); 128 tokens 0.86-0.93 / 0.62-0.75; 256 tokens: four heads a call took
// 2.8-3.1 vs 2.3-2.6 (their 1 MB of scores spilled from L2), so one.
int64_t heads_per_call(int64_t Tq, int64_t Tk, int64_t H, int64_t samples) {
    const int64_t fit = std::max<int64_t>(1, (int64_t(1) << 16) / std::max<int64_t>(1, std::min(Tq, kRowChunk) * Tk));
    const int64_t spread = std::max<int64_t>(1, samples * H / 8);
    return std::max<int64_t>(1, std::min({fit, spread, H}));
}

// Rounds the view's row (n, t), all heads, into the head-major copy y [N][H][T][Dh].
void round_row(const Kernels& kern, const View& x, uint16_t* y, int64_t n, int64_t t, int64_t T, int64_t H,
               int64_t Dh) {
    for (int64_t h = 0; h < H; ++h)
        kern.round_bf16(x.f + n * x.sn + t * x.st + h * x.sh, y + ((n * H + h) * T + t) * Dh, Dh);
}

void head_bf16(const Kernels& kern, const HeadBlock& b, int64_t Dh, float scale) {
    thread_local GrowBuffer s_buf, p_buf, inv_buf, o_buf;  // only grow: no allocation once shapes are steady
    const int64_t Tk = b.Tk, G = b.G, chunk = std::min(b.Tq, kRowChunk);
    auto* s = static_cast<float*>(s_buf.get(size_t(G * chunk * Tk) * 4));
    auto* p = static_cast<uint16_t*>(p_buf.get(size_t(G * chunk * Tk) * 2));
    auto* inv = static_cast<float*>(inv_buf.get(size_t(G * chunk) * 4));
    auto* o = static_cast<float*>(o_buf.get(size_t(G * chunk * Dh) * 4));
    for (int64_t i0 = 0; i0 < b.Tq; i0 += chunk) {
        const int64_t rows = std::min(chunk, b.Tq - i0);
        // S [G, rows, Tk] = Q [G, rows, Dh] K^T: K's bf16 rows read as [Dh, Tk] matrices with strides (1, k_ld)
        bf16_product_serial({b.q + i0 * b.q_ld, b.q_ld, b.k, 1, b.k_ld, s, Tk, rows, Tk, Dh, G, b.q_hs, b.k_hs,
                             rows * Tk});
        kern.softmax_exp_bf16(s, p, G * rows, Tk, scale, inv);
        bf16_product_serial({p, Tk, b.v, b.v_ld, 1, o, Dh, rows, Dh, Tk, G, rows * Tk, b.v_hs, rows * Dh});
        for (int64_t g = 0; g < G; ++g)
            for (int64_t r = 0; r < rows; ++r) {
                const float* src = o + (g * rows + r) * Dh;
                const float f = inv[g * rows + r];
                const int64_t at = (i0 + r) * b.o_st + g * b.o_hs;
                if (b.o16) {
                    kern.scale_to_bf16(src, f, b.o16 + at, Dh);
                } else {
                    float* dst = b.o + at;
                    for (int64_t d = 0; d < Dh; ++d) dst[d] = src[d] * f;
                }
            }
    }
}

// A bf16 operand as the heads read it: [N, T, H, Dh] at element strides (the view itself, or its head-major copy).
struct Operand {
    const uint16_t* p;
    int64_t sn, st, sh;
};

// q [N, Tq, H, Dh], k and v [N, Tk, H, Dh]; block i of `blocks` is (sample or sequence, group of heads) i as block_at
// maps it onto the operands. The first failure (a oneDNN error or no memory) becomes the status.
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

// A sample's (or sequence's) H heads in groups of G: block i's first head h and head count.
struct HeadGroups {
    int64_t H, G, per_sample;
    HeadGroups(int64_t H_, int64_t G_) : H(H_), G(G_), per_sample((H_ + G_ - 1) / G_) {}
    int64_t sample(int64_t i) const { return i / per_sample; }
    int64_t first(int64_t i) const { return (i % per_sample) * G; }
    int64_t count(int64_t i) const { return std::min(G, H - first(i)); }
};

}  // namespace

dd_status attention_bf16(const AttentionParams& p) {
    const View q{p.q, p.q16, p.q_sn, p.q_st, p.q_sh}, k{p.k, p.k16, p.k_sn, p.k_st, p.k_sh},
        v{p.v, p.v16, p.v_sn, p.v_st, p.v_sh};
    const HeadGroups hg(p.H, heads_per_call(p.T, p.Tk, p.H, p.N));
    return run_heads("dd_attention", q, k, v, p.N, p.T, p.Tk, p.H, p.Dh, p.scale, p.N * hg.per_sample,
                     [&](int64_t i, const Operand& qo, const Operand& ko, const Operand& vo) {
                         const int64_t n = hg.sample(i), h = hg.first(i), G = hg.count(i);
                         const int64_t o = n * p.o_sn + h * p.o_sh;
                         return HeadBlock{qo.p + n * qo.sn + h * qo.sh, ko.p + n * ko.sn + h * ko.sh,
                                          vo.p + n * vo.sn + h * vo.sh, qo.st, ko.st, vo.st, qo.sh, ko.sh, vo.sh,
                                          p.o16 ? nullptr : p.o + o, p.o16 ? p.o16 + o : nullptr, p.o_st, p.o_sh,
                                          p.T, p.Tk, G};
                     });
}

dd_status attention_varlen_bf16(const AttentionVarlenParams& p, int64_t longest) {
    const View q{p.q, p.q16, 0, p.q_st, p.q_sh}, k{p.k, p.k16, 0, p.k_st, p.k_sh}, v{p.v, p.v16, 0, p.v_st, p.v_sh};
    const HeadGroups hg(p.H, heads_per_call(longest, longest, p.H, p.B));
    return run_heads("dd_attention_varlen", q, k, v, 1, p.R, p.R, p.H, p.Dh, p.scale, p.B * hg.per_sample,
                     [&](int64_t i, const Operand& qo, const Operand& ko, const Operand& vo) {
                         const int64_t b = hg.sample(i), h = hg.first(i), G = hg.count(i);  // sequence b: rows [r0, r0 + len)
                         const int64_t r0 = p.cu_seqlens[b], len = p.cu_seqlens[b + 1] - r0;
                         const int64_t o = r0 * p.o_st + h * p.o_sh;
                         return HeadBlock{qo.p + r0 * qo.st + h * qo.sh, ko.p + r0 * ko.st + h * ko.sh,
                                          vo.p + r0 * vo.st + h * vo.sh, qo.st, ko.st, vo.st, qo.sh, ko.sh, vo.sh,
                                          p.o16 ? nullptr : p.o + o, p.o16 ? p.o16 + o : nullptr, p.o_st, p.o_sh,
                                          len, len, G};
                     });
}

}  // namespace dd::cpu

