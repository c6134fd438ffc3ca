// The CPU VAE backend: GroupNorm (+SiLU), nearest 2x upsampling and the batched transpose, threaded
// with OpenMP over independent (sample, group) / row blocks; convolution lives in vae_conv.cpp.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "../core/backend.h"
#include "../core/vae_backend.h"
#include "cpu_kernels.h"
#include "vae_kernels.h"

namespace dd::cpu {

dd_status conv2d(const Conv2dParams& p);  // vae_conv.cpp

const VaeKernels& vae_kernels() {
    static const VaeKernels& k = [&]() -> const VaeKernels& {
        const char* isa = kernels().isa;
        if (!std::strcmp(isa, "avx512")) return vae_kernels_avx512();
        if (!std::strcmp(isa, "avx2")) return vae_kernels_avx2();
        return vae_kernels_sse2();
    }();
    return k;
}

namespace {

// Forking threads pays off from about this many elements of work.
inline bool worth_threads(int64_t work) { return work >= (1 << 15); }

// Two passes per group (mean, then the centred sum of squares) in float blocks added in double: a
// group holds (C/G)*H*W values, 262144 at 256x256 with 4 channels per group.
dd_status group_norm(const GroupNormParams& p) {
    const VaeKernels& k = vae_kernels();
    const int64_t per_group = p.C / p.groups, count = per_group * p.HW;
    if (count == 0) return DD_OK;
#pragma omp parallel for collapse(2) schedule(dynamic) if (worth_threads(p.N * p.C * p.HW))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t g = 0; g < p.groups; ++g) {
            const int64_t off = (n * p.C + g * per_group) * p.HW;
            const float* x = p.x + off;
            float* y = p.y + off;
            const double mean = k.sum(x, count) / (double)count;
            const double var = k.centered_square_sum(x, count, (float)mean) / (double)count;
            const double rstd = 1.0 / std::sqrt(var + (double)p.eps);
            for (int64_t c = 0; c < per_group; ++c) {
                const int64_t ch = g * per_group + c;
                const float scale = (float)(rstd * (p.gamma ? p.gamma[ch] : 1.0f));
                const float shift = p.beta ? p.beta[ch] : 0.f;
                if (p.silu) k.normalize_silu(x + c * p.HW, y + c * p.HW, p.HW, (float)mean, scale, shift);
                else k.normalize(x + c * p.HW, y + c * p.HW, p.HW, (float)mean, scale, shift);
            }
        }
    return DD_OK;
}

// One input row feeds two output rows: the first is written element-doubled, the second copied from it.
dd_status upsample_nearest2x(const Upsample2xParams& p) {
    const int64_t rows = p.N * p.C * p.H, W = p.W, W2 = 2 * p.W;
#pragma omp parallel for if (worth_threads(rows * W * 4))
    for (int64_t r = 0; r < rows; ++r) {
        const float* in = p.x + r * W;
        float* out = p.y + r * 2 * W2;
        for (int64_t j = 0; j < W; ++j) out[2 * j] = out[2 * j + 1] = in[j];
        std::memcpy(out + W2, out, sizeof(float) * W2);
    }
    return DD_OK;
}

// 32x32 blocks: reads of x run along s, writes of y along r, both within a few cache lines per block.
dd_status transpose_last2(const TransposeParams& p) {
    constexpr int64_t kTile = 32;
    const int64_t rb = (p.R + kTile - 1) / kTile, sb = (p.S + kTile - 1) / kTile;
#pragma omp parallel for collapse(2) if (worth_threads(p.B * p.R * p.S))
    for (int64_t b = 0; b < p.B; ++b)
        for (int64_t t = 0; t < rb * sb; ++t) {
            const int64_t r0 = (t / sb) * kTile, s0 = (t % sb) * kTile;
            const int64_t r1 = std::min(p.R, r0 + kTile), s1 = std::min(p.S, s0 + kTile);
            const float* x = p.x + b * p.R * p.S;
            float* y = p.y + b * p.R * p.S;
            const float* res = p.residual ? p.residual + b * p.R * p.S : nullptr;
            for (int64_t s = s0; s < s1; ++s)
                for (int64_t r = r0; r < r1; ++r) {
                    const float v = x[r * p.S + s];
                    y[s * p.R + r] = res ? res[s * p.R + r] + v : v;
                }
        }
    return DD_OK;
}

const VaeBackend cpu_vae = {"cpu", conv2d, group_norm, upsample_nearest2x, transpose_last2};

}  // namespace
}  // namespace dd::cpu

const dd::VaeBackend* dd::cpu_vae_backend() {
    return &dd::cpu::cpu_vae;
}
