// CPU forms of the sampler steps and the guidance combine: the Java sampler's float32 arithmetic, operation for
// operation (this file is compiled with -ffp-contract=off: a fused multiply-add would round once, not twice).
#include <cmath>

#include "../core/backend.h"

namespace dd::cpu {

dd_status ddpm_update(const SamplerStepParams& p) {
    const float sr = p.k[0], srm1 = p.k[1], coef1 = p.k[2], coef2 = p.k[3], max_log = p.k[4], min_log = p.k[5],
                fixed_log = p.k[6];
#pragma omp parallel for collapse(2) if (p.B * p.C * p.P >= (1 << 16))
    for (int64_t b = 0; b < p.B; ++b)
        for (int64_t ch = 0; ch < p.C; ++ch) {
            const int64_t xo = (b * p.C + ch) * p.P, eo = (b * p.Co + ch) * p.P, vo = eo + p.C * p.P;
            for (int64_t i = 0; i < p.P; ++i) {
                const float xv = p.x[xo + i];
                const float x0 = sr * xv - srm1 * p.out[eo + i];
                const float mean = coef1 * x0 + coef2 * xv;
                if (p.pred_xstart) p.pred_xstart[xo + i] = x0;
                if (!p.noise) {
                    p.next[xo + i] = mean;
                    continue;
                }
                float log_var = fixed_log;
                if (p.learned_range) {
                    const float frac = (p.out[vo + i] + 1.0f) / 2.0f;
                    log_var = frac * max_log + (1.0f - frac) * min_log;
                }
                const float sd = (float)std::exp((double)(0.5f * log_var));
                p.next[xo + i] = mean + sd * p.noise[xo + i];
            }
        }
    return DD_OK;
}

dd_status ddim_update(const SamplerStepParams& p) {
    const float sr = p.k[0], srm1 = p.k[1], sqrt_ab_prev = p.k[2], dir = p.k[3], sigma = p.k[4];
    const float* noise = sigma != 0.0f ? p.noise : nullptr;  // sigma 0 adds nothing (not + 0 * noise)
#pragma omp parallel for collapse(2) if (p.B * p.C * p.P >= (1 << 16))
    for (int64_t b = 0; b < p.B; ++b)
        for (int64_t ch = 0; ch < p.C; ++ch) {
            const int64_t xo = (b * p.C + ch) * p.P, eo = (b * p.Co + ch) * p.P;
            for (int64_t i = 0; i < p.P; ++i) {
                const float xv = p.x[xo + i];
                const float x0 = sr * xv - srm1 * p.out[eo + i];
                const float eps = (sr * xv - x0) / srm1;
                const float mean = x0 * sqrt_ab_prev + dir * eps;
                if (p.pred_xstart) p.pred_xstart[xo + i] = x0;
                p.next[xo + i] = noise ? mean + sigma * noise[xo + i] : mean;
            }
        }
    return DD_OK;
}

dd_status dpm_update(const DpmStepParams& p) {
    const float* k = p.k;
#pragma omp parallel for collapse(2) if (p.B * p.C * p.P >= (1 << 16))
    for (int64_t b = 0; b < p.B; ++b)
        for (int64_t ch = 0; ch < p.C; ++ch) {
            const int64_t xo = (b * p.C + ch) * p.P, eo = (b * p.Co + ch) * p.P;
            for (int64_t i = 0; i < p.P; ++i) {
                const int64_t e = xo + i;
                const float x0 = (p.x[e] - k[0] * p.out[eo + i]) / k[1];
                float v = k[2] * p.x[e] - k[3] * x0;
                if (p.order == 2) {
                    v = v - k[4] * (k[5] * (x0 - p.m1[e]));
                } else if (p.order == 3) {
                    const float d10 = k[6] * (x0 - p.m1[e]), d11 = k[7] * (p.m1[e] - p.m2[e]);
                    const float d1 = d10 + k[8] * (d10 - d11), d2 = k[9] * (d10 - d11);
                    v = (v + k[4] * d1) - k[5] * d2;
                }
                p.x0[e] = x0;
                p.next[e] = v;
            }
        }
    return DD_OK;
}

dd_status cfg_combine(const CfgCombineParams& p) {
    for (int64_t i = 0; i < p.n; ++i)
        for (int64_t ch = 0; ch < p.guided; ++ch) {
            float* c = p.out + (i * p.Co + ch) * p.P;
            float* u = p.out + ((i + p.n) * p.Co + ch) * p.P;
            for (int64_t e = 0; e < p.P; ++e) {
                const float g = u[e] + p.scale * (c[e] - u[e]);
                c[e] = g;
                u[e] = g;
            }
        }
    return DD_OK;
}

dd_status weak_guidance(const WeakGuidanceParams& p) {
    for (int64_t i = 0; i < p.n; ++i)
        for (int64_t ch = 0; ch < p.guided; ++ch) {
            float* c = p.cond + (i * p.Co + ch) * p.P;
            const float* g = p.guide + (i * p.Co + ch) * p.P;
            for (int64_t e = 0; e < p.P; ++e) c[e] = g[e] + p.scale * (c[e] - g[e]);
        }
    return DD_OK;
}

}  // namespace dd::cpu
