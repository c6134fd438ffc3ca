// CPU form of dd_attention_key_mass: per (sample, head) S = Q K^T through the backend's GEMM, a row softmax with
// the scale, then column sums added into out / H. Columns are summed in row order, so the result does not depend
// on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/backend.h"

namespace dd::cpu {

dd_status attention_key_mass(const AttentionKeyMassParams& p) {
    const int64_t T = p.T;
    for (int64_t i = 0; i < p.N * T; ++i) p.out[i] = 0.f;
    if (T == 0 || p.H == 0) return DD_OK;
    static thread_local std::vector<float> scratch;  // grows only: no allocation once shapes are steady
    if ((int64_t)scratch.size() < T * T) scratch.resize(T * T);
    float* S = scratch.data();
    const float inv_heads = 1.0f / (float)p.H;
    for (int64_t n = 0; n < p.N; ++n) {
        for (int64_t h = 0; h < p.H; ++h) {
            LinearParams qk{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                            nullptr, S, T, T, T, p.Dh};
            if (dd_status s = cpu_backend()->linear(qk)) return s;
#pragma omp parallel for if (T * T >= (1 << 14))
            for (int64_t i = 0; i < T; ++i) {
                float* row = S + i * T;
                float m = -INFINITY;
                for (int64_t j = 0; j < T; ++j) m = std::max(m, row[j] * p.scale);
                float sum = 0.f;
                for (int64_t j = 0; j < T; ++j) sum += row[j] = std::exp(row[j] * p.scale - m);
                const float inv = 1.0f / sum;
                for (int64_t j = 0; j < T; ++j) row[j] *= inv;
            }
            float* out = p.out + n * T;
#pragma omp parallel for if (T * T >= (1 << 14))
            for (int64_t j = 0; j < T; ++j) {
                float col = 0.f;
                for (int64_t i = 0; i < T; ++i) col += S[i * T + j];
                out[j] += col * inv_heads;
            }
        }
    }
    return DD_OK;
}

}  // namespace dd::cpu
