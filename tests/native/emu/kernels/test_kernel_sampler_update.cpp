// cuda-kernels/sampler_update.cu under emulation. Two checks per op:
//  1. bitwise against a float32 transcription of the Java code (DdpmUpdate / DdimUpdate / Guidance) in the
//     same operation order. Bitwise is the right bar here: the kernel rounds every product and sum
//     separately (__fmul_rn/__fadd_rn) like Java, and under the emulator its double exp is the host's
//     libm exp, as the reference's. (On a GPU, CUDA's double exp (≤1 double ulp) can differ from the
//     JVM's only when the double result lies within ~1 double ulp of a float rounding boundary,
//     ~2^-28 per element; std then differs by 1 float ulp and the latent by ≤1-2 ulp.)
//  2. the formulas in double on the same inputs, within a bound scaled by the magnitudes involved
//     (catches a wrong formula or coefficient, which the transcription could share with the kernel).
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"
#include "sampler_update.cuh"

using emu_test::DevBuf;
namespace k = dd::cuda_kernels;

namespace {

constexpr double kUlp = 1.0 / (1 << 24);

std::vector<float> randv(emu_test::Rng& rng, size_t n, float lo = 0, float hi = 0) {
    std::vector<float> v(n);
    for (auto& x : v) x = lo < hi ? rng.uniform(lo, hi) : rng.normal();
    return v;
}

void expect_bitwise(const std::vector<float>& got, const std::vector<float>& ref, const char* what) {
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_EQ(std::memcmp(&got[i], &ref[i], sizeof(float)), 0)
            << what << " at " << i << ": " << got[i] << " vs " << ref[i];
}

// |got − ref| ≤ 16 ulp of the magnitude scale: a handful of fp32 roundings along the chain, each
// ≤ ½ ulp of the terms (the scale is the same formula on absolute values).
void expect_near(float got, double ref, double scale, const char* what, size_t i) {
    ASSERT_LE(std::fabs(got - ref), 16 * kUlp * scale + 1e-30) << what << " at " << i << ": " << got << " vs " << ref;
}

// Linear-β schedule (DiT: 1000 steps, 1e-4..0.02) in double, as DiffusionSchedule holds it.
struct Schedule {
    std::vector<double> beta, ab, ab_prev;
    Schedule() {
        double prod = 1;
        for (int t = 0; t < 1000; ++t) {
            beta.push_back(1e-4 + (0.02 - 1e-4) * t / 999.0);
            ab_prev.push_back(prod);
            prod *= 1 - beta.back();
            ab.push_back(prod);
        }
    }
    k::DdpmCoefs ddpm(int t) const {
        const double post_var = beta[t] * (1 - ab_prev[t]) / (1 - ab[t]);
        const double post_var1 = beta[1] * (1 - ab_prev[1]) / (1 - ab[1]);
        return {(float)std::sqrt(1 / ab[t]), (float)std::sqrt(1 / ab[t] - 1),
                (float)(beta[t] * std::sqrt(ab_prev[t]) / (1 - ab[t])),
                (float)((1 - ab_prev[t]) * std::sqrt(1 - beta[t]) / (1 - ab[t])), (float)std::log(beta[t]),
                (float)std::log(t == 0 ? post_var1 : post_var), (float)std::log(t == 0 ? post_var1 : beta[t])};
    }
};

// ---- DDPM ----

void check_ddpm(int t, bool learned, int64_t B, int64_t C, int64_t P) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " t " + std::to_string(t) + (learned ? " learned" : " fixed"));
    const int64_t Co = learned ? 2 * C + 1 : C + 1;  // an extra channel the kernel must not read as ε or v
    const k::DdpmCoefs c = Schedule().ddpm(t);
    const bool noisy = t != 0;
    auto x = randv(rng, B * C * P), out = randv(rng, B * Co * P, -1.5f, 1.5f), noise = randv(rng, B * C * P);
    DevBuf<float> dx(x), dout(out), dnoise(noise), dpred(B * C * P), dnext(B * C * P);
    ASSERT_EQ(k::ddpm_update(dx.p, dout.p, noisy ? dnoise.p : nullptr, dpred.p, dnext.p, B, C, Co, P, c, learned, 0),
              cudaSuccess);
    const auto pred = dpred.get(), next = dnext.get();
    std::vector<float> rpred(B * C * P), rnext(B * C * P);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t p = 0; p < P; ++p) {
                const int64_t xi = (b * C + ch) * P + p, ei = (b * Co + ch) * P + p, vi = ei + C * P;
                // float32, DdpmUpdate.apply's order
                const float xv = x[xi];
                const float x0 = c.sqrt_recip * xv - c.sqrt_recipm1 * out[ei];
                const float mean = c.coef1 * x0 + c.coef2 * xv;
                float lv = c.fixed_log;
                if (learned) {
                    const float frac = (out[vi] + 1.0f) / 2.0f;
                    lv = frac * c.max_log + (1.0f - frac) * c.min_log;
                }
                const float sd = (float)std::exp((double)(0.5f * lv));
                rpred[xi] = x0;
                rnext[xi] = noisy ? mean + sd * noise[xi] : mean;
                // double
                const double dx0 = (double)c.sqrt_recip * xv - (double)c.sqrt_recipm1 * out[ei];
                const double sx0 = std::fabs((double)c.sqrt_recip * xv) + std::fabs((double)c.sqrt_recipm1 * out[ei]);
                double dlv = c.fixed_log, slv = std::fabs(c.fixed_log);
                if (learned) {
                    const double f = (out[vi] + 1.0) / 2;
                    dlv = f * c.max_log + (1 - f) * c.min_log;
                    slv = std::fabs(f * c.max_log) + std::fabs((1 - f) * c.min_log) + std::fabs(c.max_log - c.min_log);
                }
                const double dsd = std::exp(0.5 * dlv);
                const double dn = c.coef1 * dx0 + c.coef2 * (double)xv + (noisy ? dsd * noise[xi] : 0.0);
                // exp's relative error is the absolute error of ½·logvar, ≲ a few ulp of slv
                const double sn = std::fabs(c.coef1) * sx0 + std::fabs(c.coef2 * (double)xv) +
                                  (noisy ? dsd * std::fabs(noise[xi]) * (1 + slv) : 0.0);
                expect_near(pred[xi], dx0, sx0, "pred_xstart (double)", xi);
                expect_near(next[xi], dn, sn, "next (double)", xi);
            }
    expect_bitwise(pred, rpred, "pred_xstart");
    expect_bitwise(next, rnext, "next");
}

// ---- DDIM ----

void check_ddim(int t, double eta, int64_t B, int64_t C, int64_t P) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " t " + std::to_string(t) + " eta " + std::to_string(eta));
    const Schedule s;
    const int64_t Co = 2 * C;  // variance channels present and ignored
    const k::DdimCoefs c =
        k::ddim_coefs(s.ab[t], s.ab_prev[t], std::sqrt(1 / s.ab[t]), std::sqrt(1 / s.ab[t] - 1), eta);
    // DdimUpdate.sigma in float32, written out again here
    {
        const float ab = (float)s.ab[t], abp = (float)s.ab_prev[t];
        const float a = (float)std::sqrt((double)((1.0f - abp) / (1.0f - ab)));
        const float b = (float)std::sqrt((double)(1.0f - ab / abp));
        const float sig = (float)eta * a * b;
        EXPECT_EQ(c.sigma, sig);
        EXPECT_EQ(c.dir_coef, (float)std::sqrt((double)(1.0f - abp - sig * sig)));
        EXPECT_EQ(c.sqrt_ab_prev, (float)std::sqrt((double)abp));
        const double dsig = eta * std::sqrt((1 - s.ab_prev[t]) / (1 - s.ab[t])) * std::sqrt(1 - s.ab[t] / s.ab_prev[t]);
        EXPECT_NEAR(c.sigma, dsig, 1e-5 * std::max(1.0, dsig));  // float32 inputs: ~1e-7 relative
    }
    const bool noisy = t != 0 && c.sigma != 0.0f;
    auto x = randv(rng, B * C * P), out = randv(rng, B * Co * P), noise = randv(rng, B * C * P);
    if (!noisy) noise[0] = -INFINITY;  // mean + 0·(−inf) would be NaN
    DevBuf<float> dx(x), dout(out), dnoise(noise), dpred(B * C * P), dnext(B * C * P);
    // noise is passed whenever t != 0: with σ == 0 the op must ignore it (Java: addNoise needs σ != 0)
    ASSERT_EQ(k::ddim_update(dx.p, dout.p, t != 0 ? dnoise.p : nullptr, dpred.p, dnext.p, B, C, Co, P, c, 0),
              cudaSuccess);
    const auto pred = dpred.get(), next = dnext.get();
    std::vector<float> rpred(B * C * P), rnext(B * C * P);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t p = 0; p < P; ++p) {
                const int64_t xi = (b * C + ch) * P + p, ei = (b * Co + ch) * P + p;
                const float xv = x[xi];
                const float x0 = c.sqrt_recip * xv - c.sqrt_recipm1 * out[ei];
                const float eps = (c.sqrt_recip * xv - x0) / c.sqrt_recipm1;
                const float mean = x0 * c.sqrt_ab_prev + c.dir_coef * eps;
                rpred[xi] = x0;
                rnext[xi] = noisy ? mean + c.sigma * noise[xi] : mean;
                // double: ε' = ε exactly; its fp32 error is the cancellation in sqrt_recip·x − x0
                const double ax = (double)c.sqrt_recip * xv, dx0 = ax - (double)c.sqrt_recipm1 * out[ei];
                const double sx0 = std::fabs(ax) + std::fabs((double)c.sqrt_recipm1 * out[ei]);
                const double deps = (ax - dx0) / c.sqrt_recipm1;
                const double seps = (std::fabs(ax) + 2 * sx0) / c.sqrt_recipm1;
                const double dnoise_term = noisy ? c.sigma * (double)noise[xi] : 0.0;
                const double dn = dx0 * c.sqrt_ab_prev + c.dir_coef * deps + dnoise_term;
                const double sn = sx0 * c.sqrt_ab_prev + c.dir_coef * seps + std::fabs(dnoise_term);
                expect_near(pred[xi], dx0, sx0, "pred_xstart (double)", xi);
                expect_near(next[xi], dn, sn, "next (double)", xi);
                ASSERT_NEAR(deps, out[ei], 1e-9 * seps);  // the double formula itself recovers ε
            }
    expect_bitwise(pred, rpred, "pred_xstart");
    expect_bitwise(next, rnext, "next");
}

}  // namespace

TEST(EmuSamplerUpdate, DdpmLearnedRange) {
    check_ddpm(500, true, 2, 4, 300);  // plane spans two column blocks
    check_ddpm(999, true, 1, 3, 17);   // sqrt_recip ~ 160: cancellation in x0
    check_ddpm(1, true, 3, 2, 64);
}

TEST(EmuSamplerUpdate, DdpmLastStepNoNoise) { check_ddpm(0, true, 2, 4, 37); }

TEST(EmuSamplerUpdate, DdpmFixedVariance) {
    check_ddpm(250, false, 2, 3, 41);
    check_ddpm(0, false, 1, 2, 5);
}

TEST(EmuSamplerUpdate, DdimEtaZeroAndOne) {
    check_ddim(600, 0.0, 2, 4, 300);
    check_ddim(600, 1.0, 2, 4, 53);
    check_ddim(999, 0.5, 1, 3, 29);
    check_ddim(0, 1.0, 2, 2, 19);  // last step: ᾱ_prev = 1, σ = 0, no noise
}

TEST(EmuSamplerUpdate, InPlaceNext) {  // next == x: each element is read before it is written
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t B = 2, C = 4, P = 70;
    const k::DdpmCoefs c = Schedule().ddpm(300);
    auto x = randv(rng, B * C * P), out = randv(rng, B * 2 * C * P), noise = randv(rng, B * C * P);
    DevBuf<float> dx(x), dy(x), dout(out), dnoise(noise), dnext(B * C * P);
    ASSERT_EQ(k::ddpm_update(dx.p, dout.p, dnoise.p, nullptr, dnext.p, B, C, 2 * C, P, c, true, 0), cudaSuccess);
    ASSERT_EQ(k::ddpm_update(dy.p, dout.p, dnoise.p, nullptr, dy.p, B, C, 2 * C, P, c, true, 0), cudaSuccess);
    expect_bitwise(dy.get(), dnext.get(), "in-place next");
}

TEST(EmuSamplerUpdate, CfgCombine) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t n = 3, Co = 8, P = 290, guided = 3;  // DiT guides the first 3 of 2C (C = 4) channels
    const float s = 4.0f;
    auto out = randv(rng, 2 * n * Co * P);
    DevBuf<float> dout(out);
    ASSERT_EQ(k::cfg_combine(dout.p, n, Co, P, guided, s, 0), cudaSuccess);
    const auto got = dout.get();
    auto ref = out;  // unguided channels keep their raw values in both halves
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < guided; ++ch)
            for (int64_t e = 0; e < P; ++e) {
                const int64_t ci = (i * Co + ch) * P + e, ui = ((i + n) * Co + ch) * P + e;
                const float u = out[ui], g = u + s * (out[ci] - u);  // Guidance.combineFirstChannels
                ref[ci] = ref[ui] = g;
                const double dg = (double)u + (double)s * ((double)out[ci] - u);
                expect_near(got[ci], dg, std::fabs(u) + std::fabs(s) * (std::fabs(out[ci]) + std::fabs(u)), "cfg", ci);
            }
    expect_bitwise(got, ref, "cfg");
}

TEST(EmuSamplerUpdate, WeakGuidance) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t n = 2, Co = 8, P = 33, guided = 4;
    const float sw = 1.5f;
    auto cond = randv(rng, n * Co * P), guide = randv(rng, n * Co * P);
    DevBuf<float> dcond(cond), dguide(guide);
    ASSERT_EQ(k::weak_guidance(dcond.p, dguide.p, n, Co, P, guided, sw, 0), cudaSuccess);
    auto ref = cond;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t ch = 0; ch < guided; ++ch)
            for (int64_t e = 0; e < P; ++e) {
                const int64_t o = (i * Co + ch) * P + e;
                const float g = guide[o];
                ref[o] = g + sw * (cond[o] - g);  // Guidance.weak
                const double dg = (double)g + (double)sw * ((double)cond[o] - g);
                expect_near(ref[o], dg, std::fabs(g) + sw * (std::fabs(cond[o]) + std::fabs(g)), "weak", o);
            }
    expect_bitwise(dcond.get(), ref, "weak");
    expect_bitwise(dguide.get(), guide, "guide untouched");
}

TEST(EmuSamplerUpdate, EmptyAndBadArguments) {
    const k::DdpmCoefs c{};
    EXPECT_EQ(k::ddpm_update(nullptr, nullptr, nullptr, nullptr, nullptr, 0, 4, 8, 16, c, true, 0), cudaSuccess);
    EXPECT_EQ(k::ddpm_update(nullptr, nullptr, nullptr, nullptr, nullptr, 1, 4, 8, 16, c, true, 0),
              cudaErrorInvalidValue);
    float dummy = 0;
    EXPECT_EQ(k::ddpm_update(&dummy, &dummy, nullptr, nullptr, &dummy, 1, 4, 7, 16, c, true, 0),  // Co < 2C
              cudaErrorInvalidValue);
    EXPECT_EQ(k::cfg_combine(&dummy, 1, 4, 16, 5, 4.0f, 0), cudaErrorInvalidValue);  // guided > Co
    EXPECT_EQ(k::weak_guidance(&dummy, nullptr, 1, 4, 16, 2, 1.5f, 0), cudaErrorInvalidValue);
}
