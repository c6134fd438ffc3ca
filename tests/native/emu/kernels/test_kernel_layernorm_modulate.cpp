// cuda-kernels/layernorm_modulate.cu under emulation against a double-precision reference.
#include <algorithm>
#include <cmath>

#include "../emu_test_util.h"
#include "layernorm_modulate.cuh"

using emu_test::DevBuf;

namespace {

// Reference: one row, double precision.
void ref_row(const float* x, const float* sh, const float* sc, int64_t D, float eps, double* out) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < D; ++c) mean += x[c];
    mean /= D;
    for (int64_t c = 0; c < D; ++c) var += (x[c] - mean) * (x[c] - mean);
    var /= D;
    const double rstd = 1.0 / std::sqrt(var + eps);
    for (int64_t c = 0; c < D; ++c) {
        double v = (x[c] - mean) * rstd;
        if (sc) v *= 1.0 + sc[c];
        if (sh) v += sh[c];
        out[c] = v;
    }
}

// fp32 two-pass statistics: relative error ~ a few ulp * sqrt(D) on normalised values; |scale| < 2 and
// |shift| < 2 keep outputs O(10), so 2e-5 of max(1, |ref|) leaves a wide margin and still catches a
// wrong row, sample or missing (1 + scale).
constexpr double kTol = 2e-5;

void fill_rows(emu_test::Rng& rng, std::vector<float>& x, int64_t rows, int64_t stride, int64_t D) {
    for (int64_t r = 0; r < rows; ++r) {
        const float mu = rng.uniform(-3.0f, 3.0f), sd = rng.uniform(0.1f, 4.0f);
        for (int64_t c = 0; c < D; ++c) x[r * stride + c] = mu + sd * rng.normal();
    }
}

void check_nt(int64_t N, int64_t T, int64_t D, bool use_shift, bool use_scale, bool in_place) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " N " + std::to_string(N) + " T " + std::to_string(T) + " D " + std::to_string(D));
    const float eps = 1e-6f;
    // padded layouts: row stride D + 3, sample stride T * (D + 3) + 5; shift / scale rows at 2D + 1
    const int64_t x_st = D + 3, x_sn = T * x_st + 5, m_sn = 2 * D + 1;
    std::vector<float> x(N * x_sn), shift(N * m_sn), scale(N * m_sn);
    for (int64_t n = 0; n < N; ++n) {
        std::vector<float> rows(T * x_st);
        fill_rows(rng, rows, T, x_st, D);
        std::copy(rows.begin(), rows.end(), x.begin() + n * x_sn);
    }
    for (auto& v : shift) v = rng.uniform(-2.0f, 2.0f);
    for (auto& v : scale) v = rng.uniform(-2.0f, 2.0f);
    DevBuf<float> dx(x), dsh(shift), dsc(scale), dy(std::vector<float>(N * x_sn, 123.0f));
    float* y = in_place ? dx.p : dy.p;
    ASSERT_EQ(dd::cuda_kernels::layernorm_modulate(dx.p, x_sn, x_st, y, x_sn, x_st, use_shift ? dsh.p : nullptr,
                                                   m_sn, use_scale ? dsc.p : nullptr, m_sn, N, T, D, eps, 0),
              cudaSuccess);
    const auto got = in_place ? dx.get() : dy.get();
    std::vector<double> ref(D);
    double worst = 0;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t) {
            const int64_t o = n * x_sn + t * x_st;
            ref_row(&x[o], use_shift ? &shift[n * m_sn] : nullptr, use_scale ? &scale[n * m_sn] : nullptr, D, eps,
                    ref.data());
            for (int64_t c = 0; c < D; ++c)
                worst = std::max(worst, std::fabs(got[o + c] - ref[c]) / std::max(1.0, std::fabs(ref[c])));
            if (!in_place) {
                for (int64_t c = D; c < x_st && t + 1 < T; ++c) ASSERT_EQ(got[o + c], 123.0f) << "padding written";
            }
        }
    EXPECT_LT(worst, kTol);
}

void check_rows(int64_t K, int64_t S, int64_t D, bool affine) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " K " + std::to_string(K) + " S " + std::to_string(S) + " D " + std::to_string(D));
    const float eps = 1e-5f;
    const int64_t x_rs = D + 1, y_rs = D + 2, m_rs = D + 7;
    std::vector<float> x(std::max<int64_t>(K, 1) * x_rs), shift(S * m_rs), scale(S * m_rs);
    std::vector<int32_t> rs(std::max<int64_t>(K, 1));
    fill_rows(rng, x, K, x_rs, D);
    for (auto& v : shift) v = rng.uniform(-2.0f, 2.0f);
    for (auto& v : scale) v = rng.uniform(-2.0f, 2.0f);
    for (int64_t i = 0; i < K; ++i) rs[i] = rng.integer(0, (int)S - 1);
    DevBuf<float> dx(x), dsh(shift), dsc(scale), dy(std::max<int64_t>(K, 1) * y_rs);
    DevBuf<int32_t> drs(rs);
    ASSERT_EQ(dd::cuda_kernels::layernorm_modulate_rows(dx.p, x_rs, dy.p, y_rs, affine ? dsh.p : nullptr, m_rs,
                                                        affine ? dsc.p : nullptr, m_rs, drs.p, K, D, eps, 0),
              cudaSuccess);
    const auto got = dy.get();
    std::vector<double> ref(D);
    double worst = 0;
    for (int64_t i = 0; i < K; ++i) {
        ref_row(&x[i * x_rs], affine ? &shift[rs[i] * m_rs] : nullptr, affine ? &scale[rs[i] * m_rs] : nullptr, D,
                eps, ref.data());
        for (int64_t c = 0; c < D; ++c)
            worst = std::max(worst, std::fabs(got[i * y_rs + c] - ref[c]) / std::max(1.0, std::fabs(ref[c])));
    }
    EXPECT_LT(worst, kTol);
}

}  // namespace

TEST(EmuLayerNormModulate, ShiftAndScaleStrided) { check_nt(3, 17, 389, true, true, false); }
TEST(EmuLayerNormModulate, InPlaceAndOneSided) {
    check_nt(2, 9, 1152, true, true, true);
    check_nt(2, 5, 77, false, true, false);
    check_nt(2, 5, 77, true, false, false);
    check_nt(1, 3, 33, false, false, true);
}
TEST(EmuLayerNormModulate, RaggedRows) {
    check_rows(37, 5, 201, true);
    check_rows(11, 3, 1000, false);
    check_rows(0, 2, 64, true);  // zero kept tokens: nothing launched, success
}
TEST(EmuLayerNormModulate, BadArguments) {
    EXPECT_EQ(dd::cuda_kernels::layernorm_modulate(nullptr, 0, 0, nullptr, 0, 0, nullptr, 0, nullptr, 0, 1, 1, 8,
                                                   1e-6f, 0),
              cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::layernorm_modulate_rows(nullptr, 8, nullptr, 8, nullptr, 0, nullptr, 0, nullptr, 4, 8,
                                                        1e-6f, 0),
              cudaErrorInvalidValue);
}
