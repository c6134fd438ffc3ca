// cuda-kernels/softmax_rows.cu under emulation against a double-precision softmax on fresh random rows:
// ragged widths (1, 31, 257, 1030), a row stride larger than the width, scales, large logits.
#include <cmath>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "softmax_rows.cuh"

using emu_test::DevBuf;

namespace {

void check(int64_t rows, int64_t cols, int64_t ld, float scale, float spread) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    std::vector<float> x(rows * ld);
    for (float& v : x) v = spread * rng.normal();
    DevBuf<float> d(x);
    ASSERT_EQ(dd::cuda_kernels::softmax_rows(d.p, rows, cols, ld, scale, nullptr), cudaSuccess);
    std::vector<float> got = d.get();
    for (int64_t r = 0; r < rows; ++r) {
        double m = -1e300, s = 0;
        for (int64_t j = 0; j < cols; ++j) m = std::fmax(m, (double)scale * x[r * ld + j]);
        for (int64_t j = 0; j < cols; ++j) s += std::exp((double)scale * x[r * ld + j] - m);
        for (int64_t j = 0; j < cols; ++j) {
            const double ref = std::exp((double)scale * x[r * ld + j] - m) / s;
            // float exp (~1 ulp), the float sum over cols and the scaling: a few 1e-7 relative
            ASSERT_NEAR(got[r * ld + j], ref, 2e-6 * ref + 1e-9) << "row " << r << " col " << j;
        }
        for (int64_t j = cols; j < ld; ++j) ASSERT_EQ(got[r * ld + j], x[r * ld + j]) << "padding touched";
    }
}

}  // namespace

TEST(EmuSoftmaxRows, RaggedWidthsStridesAndScales) {
    check(3, 1, 1, 1.0f, 1.0f);
    check(5, 31, 40, 0.125f, 3.0f);
    check(4, 257, 257, 0.0441942f, 10.0f);
    check(2, 1030, 1031, 1.0f, 30.0f);  // logits up to ~100: the max subtraction keeps exp finite
}

TEST(EmuSoftmaxRows, BadSizesAreRefused) {
    EXPECT_EQ(dd::cuda_kernels::softmax_rows(nullptr, 2, 4, 3, 1.0f, nullptr), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::softmax_rows(nullptr, 0, 4, 4, 1.0f, nullptr), cudaSuccess);
}
