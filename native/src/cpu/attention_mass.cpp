// CPU forms of dd_attention_key_mass (the attention kernel without its P·V half) and dd_attention_with_key_mass
// (the whole kernel, its probabilities' column sums kept on the way). (sample, head) pairs run in parallel, each
// summing softmax(Q K^T * scale) over its query rows in order into its own row of T; the heads are then added in
// order and divided by H, so the result does not depend on the thread count, and the two forms agree bit for bit.
// Always fp32 (the scores never go through the GEMM precision): the importance that picks tokens is the same in
// every precision.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "../core/backend.h"
#include "cpu_kernels.h"

namespace dd::cpu {
namespace {

// p.v null: the probabilities' column sums only (p.o unused); p.Tk = p.T.
dd_status mass_over_heads(const AttentionParams& p, float* out) {
    const int64_t N = p.N, T = p.T, H = p.H;
    std::fill(out, out + N * T, 0.f);
    if (T == 0 || H == 0 || p.Dh == 0) return DD_OK;
    const Kernels& k = kernels();
    // per-head sums, owned by the calling thread (grows only: no allocation once shapes are steady)
    static thread_local std::vector<float> heads;
    if ((int64_t)heads.size() < N * H * T) heads.resize(N * H * T);
    float* sums = heads.data();
    const int64_t need = k.attention_scratch_floats(T, p.Dh);
    static thread_local std::vector<float> scratch;
#pragma omp parallel
    {
        if ((int64_t)scratch.size() < need) scratch.resize(need);
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t h = 0; h < H; ++h) {
                float* mass = sums + (n * H + h) * T;
                std::fill(mass, mass + T, 0.f);
                const bool pv = p.v != nullptr;
                AttentionHead a{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                                pv ? p.v + n * p.v_sn + h * p.v_sh : nullptr, p.v_st,
                                pv ? p.o + n * p.o_sn + h * p.o_sh : nullptr, p.o_st,
                                T, p.Dh, p.scale, scratch.data(), T, mass};
                k.attention_head(a);
            }
    }
    const float inv_heads = 1.0f / (float)H;
#pragma omp parallel for if (N * T >= 4096)
    for (int64_t i = 0; i < N * T; ++i) {
        const int64_t n = i / T, j = i % T;
        float s = 0.f;
        for (int64_t h = 0; h < H; ++h) s += sums[(n * H + h) * T + j];
        out[i] = s * inv_heads;
    }
    return DD_OK;
}

}  // namespace

dd_status attention_key_mass(const AttentionKeyMassParams& p) {
    AttentionParams a{};
    a.q = p.q; a.q_sn = p.q_sn; a.q_st = p.q_st; a.q_sh = p.q_sh;
    a.k = p.k; a.k_sn = p.k_sn; a.k_st = p.k_st; a.k_sh = p.k_sh;
    a.N = p.N; a.T = p.T; a.Tk = p.T; a.H = p.H; a.Dh = p.Dh; a.scale = p.scale;
    return mass_over_heads(a, p.out);
}

dd_status attention_with_key_mass(const AttentionParams& p, float* mass) {
    return mass_over_heads(p, mass);
}

}  // namespace dd::cpu
