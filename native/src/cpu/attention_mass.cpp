// CPU form of dd_attention_key_mass: per (sample, head) S = Q K^T through the backend's GEMM, a row softmax with
// the scale, then column sums added into out / H. Columns are summed in row order, so the result does not depend
// on the thread count.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/backend.h"
#include "cpu_kernels.h"

namespace dd::cpu {

dd_status attention_key_mass(const AttentionKeyMassParams& p) {
    const int64_t T = p.T;
    for (int64_t i = 0; i < p.N * T; ++i) p.out[i] = 0.f;
    if (T == 0 || p.H == 0) return DD_OK;
    static thread_local std::vector<float> scratch;  // grows only: no allocation once shapes are steady
    if ((int64_t)scratch.size() < T * T) scratch.resize(T * T);
    float* S = scratch.data();
    const float inv_heads = 1.0f / (float)p.H;
    const Kernels& k = kernels();
    for (int64_t n = 0; n < p.N; ++n) {
        for (int64_t h = 0; h < p.H; ++h) {
            LinearParams qk{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                            nullptr, S, T, T, T, p.Dh};
            if (dd_status s = cpu_backend()->linear(qk)) return s;
#pragma omp parallel for if (T * T >= (1 << 14))
            for (int64_t i = 0; i < T; ++i) k.softmax_row(S + i * T, T, p.scale);  // this ISA's vector exp
            float* out = p.out + n * T;
            // out += column sums / H: rows added in order, a vectorizable loop over columns
            for (int64_t i = 0; i < T; ++i) {
                const float* row = S + i * T;
                for (int64_t j = 0; j < T; ++j) out[j] += row[j] * inv_heads;
            }
        }
    }
    return DD_OK;
}

}  // namespace dd::cpu
