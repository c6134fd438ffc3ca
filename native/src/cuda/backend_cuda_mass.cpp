// The CUDA backend's dd_attention_key_mass: per (sample, head) S = Q K^T through the backend's GEMM (at the
// thread's GEMM precision), a scaled row softmax (softmax_rows.cu), then column sums into out / H
// (column_sums.cu). S lives in per-thread scratch that only grows.
#include "backend_cuda_parts.h"
#include "column_sums.cuh"
#include "cuda_context.h"
#include "softmax_rows.cuh"

namespace dd::cuda_impl {

dd_status attention_key_mass(const AttentionKeyMassParams& p) {
    const char* name = "attention_key_mass";
    if (p.N == 0 || p.T == 0) return DD_OK;
    if (!fits_int(p.T) || !fits_int(p.Dh)) return too_big(name, "tokens or head dim", p.T);
    thread_local Scratch scratch;
    dd_status st = DD_OK;
    float* S = static_cast<float*>(scratch.get((size_t)p.T * p.T * sizeof(float), name, &st));
    if (!S) return st;
    const float inv_heads = p.H > 0 ? 1.0f / (float)p.H : 0.0f;
    for (int64_t n = 0; n < p.N; ++n) {
        float* out = p.out + n * p.T;
        if (p.H == 0 && (st = check_launch(ck::column_sums(S, 0, p.T, p.T, 0.f, false, out, stream()), name)))
            return st;
        for (int64_t h = 0; h < p.H; ++h) {
            LinearParams qk{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                            nullptr, S, p.T, p.T, p.T, p.Dh};
            if ((st = linear_activations(qk))) return st;  // K is no weight
            if ((st = check_launch(ck::softmax_rows(S, p.T, p.T, p.T, p.scale, stream()), "attention_key_mass (softmax)")))
                return st;
            if ((st = check_launch(ck::column_sums(S, p.T, p.T, p.T, inv_heads, h > 0, out, stream()),
                                   "attention_key_mass (column sums)")))
                return st;
        }
    }
    return DD_OK;
}

}  // namespace dd::cuda_impl
