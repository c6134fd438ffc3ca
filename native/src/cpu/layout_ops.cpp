// CPU layout ops of the DiT embedding path: patchify / unpatchify, timestep features, broadcast add.
#include <cmath>

#include "../core/backend.h"
#include "cpu_kernels.h"
#include "reference_expf.h"

namespace dd::cpu {

dd_status patchify(const PatchParams& p) {
    const int64_t gh = p.H / p.p, gw = p.W / p.p, P = p.p;
#pragma omp parallel for collapse(2) if (p.N * p.C * p.H * p.W >= (1 << 15))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t i = 0; i < gh; ++i)
            for (int64_t j = 0; j < gw; ++j) {
                float* row = p.dst + (n * gh * gw + i * gw + j) * p.tok_st;
                for (int64_t c = 0; c < p.C; ++c)
                    for (int64_t a = 0; a < P; ++a) {
                        const float* src = p.src + ((n * p.C + c) * p.H + i * P + a) * p.W + j * P;
                        for (int64_t b = 0; b < P; ++b) row[(c * P + a) * P + b] = src[b];
                    }
            }
    return DD_OK;
}

dd_status unpatchify(const PatchParams& p) {
    const int64_t gh = p.H / p.p, gw = p.W / p.p, P = p.p, C = p.C;
#pragma omp parallel for collapse(2) if (p.N * p.C * p.H * p.W >= (1 << 15))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t i = 0; i < gh; ++i)
            for (int64_t j = 0; j < gw; ++j) {
                const float* row = p.src + (n * gh * gw + i * gw + j) * p.tok_st;
                for (int64_t a = 0; a < P; ++a)
                    for (int64_t b = 0; b < P; ++b)
                        for (int64_t ch = 0; ch < C; ++ch)
                            p.dst[((n * C + ch) * p.H + i * P + a) * p.W + j * P + b] = row[(a * P + b) * C + ch];
            }
    return DD_OK;
}

// Rounds to float32 at the same points as DiT's float32 PyTorch code; cos/sin evaluated in double and
// rounded once (PyTorch's are within 1 ulp of that).
dd_status timestep_embedding(const TimestepEmbeddingParams& p) {
    const int64_t half = p.dim / 2;
    const float neg_log = (float)-std::log((double)p.max_period);
    for (int64_t n = 0; n < p.N; ++n) {
        float* o = p.out + n * p.dim;
        for (int64_t k = 0; k < half; ++k) {
            float e = (neg_log * (float)k) / (float)half;
            float f = reference_expf(e);
            float a = p.t[n] * f;
            o[k] = (float)std::cos((double)a);
            o[half + k] = (float)std::sin((double)a);
        }
        if (p.dim % 2) o[p.dim - 1] = 0.f;
    }
    return DD_OK;
}

dd_status add_broadcast(const AddBroadcastParams& p) {
    const Kernels& k = kernels();
#pragma omp parallel for collapse(2) if (p.N * p.R * p.D >= (1 << 15))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t r = 0; r < p.R; ++r) k.gated_add_row(p.y + n * p.y_sn + r * p.y_sr, p.b + r * p.b_sr, nullptr, p.D);
    return DD_OK;
}

}  // namespace dd::cpu
