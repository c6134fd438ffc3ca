// cuda-kernels/layernorm_rows.cu under emulation against a double-precision reference.
#include <cmath>

#include "emu_test_util.h"
#include "layernorm_rows.cuh"

using emu_test::DevBuf;

namespace {

void check_layernorm(int64_t rows, int cols, bool affine, bool in_place) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " rows " + std::to_string(rows) + " cols " + std::to_string(cols));
    const float eps = 1e-6f;
    std::vector<float> x(rows * cols), gamma(cols), beta(cols);
    for (int64_t r = 0; r < rows; ++r) {
        const float shift = rng.uniform(-3.0f, 3.0f), scale = rng.uniform(0.1f, 4.0f);
        for (int c = 0; c < cols; ++c) x[r * cols + c] = shift + scale * rng.normal();
    }
    for (int c = 0; c < cols; ++c) {
        gamma[c] = 1.0f + 0.5f * rng.normal();
        beta[c] = 0.5f * rng.normal();
    }
    DevBuf<float> dx(x), dg(gamma), db(beta), dy(rows * cols);
    float* y = in_place ? dx.p : dy.p;
    ASSERT_EQ(dd::cuda_kernels::layernorm_rows(dx.p, affine ? dg.p : nullptr, affine ? db.p : nullptr, y, rows, cols,
                                               eps, 0),
              cudaSuccess);
    const auto got = in_place ? dx.get() : dy.get();
    double worst = 0;
    for (int64_t r = 0; r < rows; ++r) {
        double mean = 0, var = 0;
        for (int c = 0; c < cols; ++c) mean += x[r * cols + c];
        mean /= cols;
        for (int c = 0; c < cols; ++c) var += (x[r * cols + c] - mean) * (x[r * cols + c] - mean);
        var /= cols;
        const double rstd = 1.0 / std::sqrt(var + eps);
        for (int c = 0; c < cols; ++c) {
            double ref = (x[r * cols + c] - mean) * rstd;
            if (affine) ref = ref * gamma[c] + beta[c];
            const double err = std::fabs(got[r * cols + c] - ref) / std::max(1.0, std::fabs(ref));
            worst = std::max(worst, err);
        }
    }
    EXPECT_LT(worst, 2e-5) << "worst relative error";
}

}  // namespace

TEST(EmuLayerNorm, DitWidthAffine) { check_layernorm(48, 1152, true, false); }
TEST(EmuLayerNorm, NoAffineInPlace) { check_layernorm(33, 1152, false, true); }
TEST(EmuLayerNorm, NarrowAndOddWidths) {
    check_layernorm(7, 72, true, false);
    check_layernorm(5, 1000, true, false);
    check_layernorm(3, 33, false, false);
}
TEST(EmuLayerNorm, BadArguments) {
    EXPECT_EQ(dd::cuda_kernels::layernorm_rows(nullptr, nullptr, nullptr, nullptr, 4, 8, 1e-6f, 0),
              cudaErrorInvalidValue);
}
