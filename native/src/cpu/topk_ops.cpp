// CPU forms of DiffCR's routing ops: per-row top-k selection, row scatter, per-row scaling, sigmoid.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/backend.h"

namespace dd::cpu {

// Order: higher score first, equal scores by lower token index; the chosen k are then sorted by index.
dd_status topk_rows(const TopkRowsParams& p) {
#pragma omp parallel if (p.N * p.T >= (1 << 14))
    {
        std::vector<int32_t> order(p.T);
#pragma omp for
        for (int64_t n = 0; n < p.N; ++n) {
            const float* s = p.scores + n * p.scores_rs;
            for (int64_t t = 0; t < p.T; ++t) order[t] = (int32_t)t;
            std::nth_element(order.begin(), order.begin() + (p.k - 1), order.end(), [s](int32_t a, int32_t b) {
                return s[a] > s[b] || (s[a] == s[b] && a < b);
            });
            // nth_element leaves the k best in [0, k) in some order; sort them by token index
            std::sort(order.begin(), order.begin() + p.k);
            int32_t* out = p.index + n * p.k;
            for (int64_t j = 0; j < p.k; ++j) out[j] = (int32_t)(n * p.T + order[j]);
        }
    }
    return DD_OK;
}

dd_status scatter_rows(const ScatterAddRowsParams& p) {
#pragma omp parallel for if (p.K * p.D >= (1 << 15))
    for (int64_t i = 0; i < p.K; ++i)
        std::memcpy(p.dst + (int64_t)p.index[i] * p.dst_rs, p.src + i * p.src_rs, sizeof(float) * p.D);
    return DD_OK;
}

dd_status scale_rows(const ScaleRowsParams& p) {
#pragma omp parallel for if (p.R * p.D >= (1 << 15))
    for (int64_t r = 0; r < p.R; ++r) {
        float* x = p.x + r * p.x_rs;
        const float s = p.s[r];
#pragma omp simd
        for (int64_t i = 0; i < p.D; ++i) x[i] *= s;
    }
    return DD_OK;
}

// Exact float32 sigmoid (std::exp): scores decide top-k and scale the MLP, so no approximation here.
dd_status sigmoid(const UnaryParams& p) {
    for (int64_t i = 0; i < p.n; ++i) p.y[i] = 1.0f / (1.0f + std::exp(-p.x[i]));
    return DD_OK;
}

}  // namespace dd::cpu
