// cuda-kernels/vae_upsample.cu under emulation: nearest 2x is a copy, so the output must match exactly;
// an odd output offset exercises the scalar (unaligned) variant, guard floats catch writes past y.
#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "vae_upsample.cuh"

using emu_test::DevBuf;

namespace {

void check(int64_t rows, int H, int W, int y_offset) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " rows " + std::to_string(rows) + " H " + std::to_string(H) + " W " +
                 std::to_string(W) + " offset " + std::to_string(y_offset));
    const int64_t in = rows * H * W, out = 4 * in, guard = 3;
    std::vector<float> x(in), y(y_offset + out + guard);
    for (auto& v : x) v = rng.normal();
    for (auto& v : y) v = rng.normal();
    DevBuf<float> dx(x), dy(y);
    ASSERT_EQ(dd::cuda_kernels::vae_upsample_nearest2x(dx.p, dy.p + y_offset, rows, H, W, 0), cudaSuccess);
    const auto got = dy.get();
    int bad = 0;
    for (int64_t r = 0; r < rows; ++r)
        for (int i = 0; i < 2 * H; ++i)
            for (int j = 0; j < 2 * W; ++j) {
                const int64_t o = y_offset + (r * 2 * H + i) * 2 * W + j;
                bad += got[o] != x[(r * H + i / 2) * W + j / 2];
            }
    for (int64_t o = 0; o < y_offset; ++o) bad += got[o] != y[o];
    for (int64_t o = y_offset + out; o < (int64_t)y.size(); ++o) bad += got[o] != y[o];
    EXPECT_EQ(bad, 0);
}

}  // namespace

TEST(EmuVaeUpsample, Nearest2x) {
    check(2 * 5, 7, 9, 0);   // float2 stores
    check(3, 1, 1, 1);       // scalar stores (odd offset)
    check(1, 23, 24, 0);     // > one block of threads
}
TEST(EmuVaeUpsample, EmptyAndBad) {
    DevBuf<float> buf(4);
    EXPECT_EQ(dd::cuda_kernels::vae_upsample_nearest2x(buf.p, buf.p, 0, 3, 3, 0), cudaSuccess);
    EXPECT_EQ(dd::cuda_kernels::vae_upsample_nearest2x(buf.p, buf.p, -1, 3, 3, 0), cudaErrorInvalidValue);
}
