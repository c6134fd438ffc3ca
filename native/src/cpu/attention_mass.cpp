// CPU form of dd_attention_key_mass: the attention kernel without its P·V half. (sample, head) pairs run in
// parallel, each summing softmax(Q K^T * scale) over its query rows in order into its own row of T; the heads are
// then added in order and divided by H, so the result does not depend on the thread count. Always fp32 (the
// scores never go through the GEMM precision): the importance that picks tokens is the same in every precision.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "../core/backend.h"
#include "cpu_kernels.h"

namespace dd::cpu {

dd_status attention_key_mass(const AttentionKeyMassParams& p) {
    const int64_t N = p.N, T = p.T, H = p.H;
    std::fill(p.out, p.out + N * T, 0.f);
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
                AttentionHead a{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                                nullptr, 0, nullptr, 0, T, p.Dh, p.scale, scratch.data(), T, mass};
                k.attention_head(a);
            }
    }
    const float inv_heads = 1.0f / (float)H;
#pragma omp parallel for if (N * T >= 4096)
    for (int64_t i = 0; i < N * T; ++i) {
        const int64_t n = i / T, j = i % T;
        float s = 0.f;
        for (int64_t h = 0; h < H; ++h) s += sums[(n * H + h) * T + j];
        p.out[i] = s * inv_heads;
    }
    return DD_OK;
}

}  // namespace dd::cpu
