// bf16 attention on the CPU: dd_attention (self and cross) and dd_attention_varlen when the calling thread's GEMM
// precision is bf16. Each (sample or sequence, head) is one thread's work: it rounds that head's k and v (and a chunk
// of q rows) to bf16, runs S = Q K^T and O = P V as oneDNN bf16 matmuls with fp32 accumulation (planned for one
// thread, so the result does not depend on the team size), and the softmax in fp32 on S before P is rounded to bf16.
// Query rows go in chunks so S stays in cache for long sequences. dd_attention_key_mass and
// dd_attention_with_key_mass stay fp32 in every precision (attention_mass.cpp).
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

// One head's q rows [Tq, Dh] and k, v rows [Tk, Dh] at their row strides (Dh contiguous), out rows [Tq, Dh].
struct HeadBlock {
    const float* q; int64_t q_st;
    const float* k; int64_t k_st;
    const float* v; int64_t v_st;
    float* o; int64_t o_st;
    int64_t Tq, Tk;
};

// The calling thread's buffers; they only grow (no allocation once shapes are steady).
struct ThreadBuffers {
    GrowBuffer q, k, v, s, p;
};

void round_rows(const Kernels& kern, const float* x, int64_t x_st, uint16_t* y, int64_t rows, int64_t cols) {
    for (int64_t r = 0; r < rows; ++r) kern.round_bf16(x + r * x_st, y + r * cols, cols);
}

void head_bf16(const Kernels& kern, const HeadBlock& b, int64_t Dh, float scale) {
    thread_local ThreadBuffers buf;
    const int64_t Tk = b.Tk, chunk = std::min(b.Tq, kRowChunk);
    auto* kb = static_cast<uint16_t*>(buf.k.get(size_t(Tk * Dh) * 2));
    auto* vb = static_cast<uint16_t*>(buf.v.get(size_t(Tk * Dh) * 2));
    auto* qb = static_cast<uint16_t*>(buf.q.get(size_t(chunk * Dh) * 2));
    auto* s = static_cast<float*>(buf.s.get(size_t(chunk * Tk) * 4));
    auto* p = static_cast<uint16_t*>(buf.p.get(size_t(chunk * Tk) * 2));
    round_rows(kern, b.k, b.k_st, kb, Tk, Dh);
    round_rows(kern, b.v, b.v_st, vb, Tk, Dh);
    for (int64_t i0 = 0; i0 < b.Tq; i0 += chunk) {
        const int64_t rows = std::min(chunk, b.Tq - i0);
        round_rows(kern, b.q + i0 * b.q_st, b.q_st, qb, rows, Dh);
        // S [rows, Tk] = Q [rows, Dh] K^T: K's bf16 rows read as a [Dh, Tk] matrix with strides (1, Dh)
        bf16_product_serial({qb, Dh, kb, 1, Dh, s, Tk, rows, Tk, Dh});
        for (int64_t r = 0; r < rows; ++r) {
            kern.softmax_row(s + r * Tk, Tk, scale);
            kern.round_bf16(s + r * Tk, p + r * Tk, Tk);
        }
        bf16_product_serial({p, Tk, vb, Dh, 1, b.o + i0 * b.o_st, b.o_st, rows, Dh, Tk});
    }
}

// Runs head_bf16 on every block in parallel; the first failure (a oneDNN error or no memory) becomes the status.
template <class BlockAt>
dd_status run_heads(const char* op, int64_t blocks, int64_t Dh, float scale, BlockAt block_at) {
    const Kernels& kern = kernels();
    std::mutex failure_mutex;
    dd_status failed = DD_OK;
    std::string message;
#pragma omp parallel for schedule(dynamic)
    for (int64_t i = 0; i < blocks; ++i) {
        const HeadBlock b = block_at(i);
        if (b.Tq == 0) continue;
        try {
            head_bf16(kern, b, Dh, scale);
        } catch (const dnnl::error& e) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (failed == DD_OK)
                failed = DD_ERR_INTERNAL,
                message = format("%s: oneDNN bf16 attention matmul (%lld queries, %lld keys, head size %lld) failed: %s",
                                 op, (long long)b.Tq, (long long)b.Tk, (long long)Dh, e.what());
        } catch (const std::bad_alloc&) {
            std::lock_guard<std::mutex> lock(failure_mutex);
            if (failed == DD_OK)
                failed = DD_ERR_OUT_OF_MEMORY,
                message = format("%s: out of host memory for bf16 attention buffers (%lld queries, %lld keys)", op,
                                 (long long)b.Tq, (long long)b.Tk);
        }
    }
    return failed == DD_OK ? DD_OK : fail(failed, message);
}

}  // namespace

dd_status attention_bf16(const AttentionParams& p) {
    return run_heads("dd_attention", p.N * p.H, p.Dh, p.scale, [&](int64_t i) {
        const int64_t n = i / p.H, h = i % p.H;
        return HeadBlock{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                         p.v + n * p.v_sn + h * p.v_sh, p.v_st, p.o + n * p.o_sn + h * p.o_sh, p.o_st, p.T, p.Tk};
    });
}

dd_status attention_varlen_bf16(const AttentionVarlenParams& p) {
    return run_heads("dd_attention_varlen", p.B * p.H, p.Dh, p.scale, [&](int64_t i) {
        const int64_t b = i / p.H, h = i % p.H;
        const int64_t r0 = p.cu_seqlens[b], len = p.cu_seqlens[b + 1] - r0;
        return HeadBlock{p.q + r0 * p.q_st + h * p.q_sh, p.q_st, p.k + r0 * p.k_st + h * p.k_sh, p.k_st,
                         p.v + r0 * p.v_st + h * p.v_sh, p.v_st, p.o + r0 * p.o_st + h * p.o_sh, p.o_st, len, len};
    });
}

}  // namespace dd::cpu
