// cuda-kernels/vae_conv2d.cu under emulation against a double-precision direct convolution on fresh random
// inputs: 3x3 and 1x1, channel / pixel / reduction tails, several tiles of each, bias, residual (separate and
// in place), both precisions.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "vae_conv2d.cuh"

using dd::cuda_kernels::Conv2dArgs;
using dd::cuda_kernels::ConvPrecision;
using emu_test::DevBuf;

namespace {

struct Case {
    int N = 2, Ci = 5, Co = 7, H = 7, W = 9, k = 3;
    bool bias = true;
    enum { kNone, kSeparate, kInPlace } residual = kSeparate;
    ConvPrecision precision = ConvPrecision::kTf32;
};

// cvt.rna.tf32.f32: round to nearest, ties away, dropping the 13 low mantissa bits.
double tf32(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & 0xFFFFE000u;
    float r;
    std::memcpy(&r, &u, 4);
    return r;
}

void check(const Case& c) {
    emu_test::Rng rng;
    const bool tf = c.precision == ConvPrecision::kTf32;
    SCOPED_TRACE(rng.trace() + " N " + std::to_string(c.N) + " Ci " + std::to_string(c.Ci) + " Co " +
                 std::to_string(c.Co) + " HxW " + std::to_string(c.H) + "x" + std::to_string(c.W) + " k " +
                 std::to_string(c.k) + (tf ? " tf32" : " fp32") + " residual " + std::to_string((int)c.residual));
    const int64_t HW = (int64_t)c.H * c.W, K = (int64_t)c.Ci * c.k * c.k;
    std::vector<float> x(c.N * c.Ci * HW), w(c.Co * K), bias(c.Co), res(c.N * c.Co * HW), y(c.N * c.Co * HW);
    for (auto& v : x) v = rng.normal();
    for (auto& v : w) v = rng.normal();
    for (auto& v : bias) v = rng.normal();
    for (auto& v : res) v = rng.normal();
    for (auto& v : y) v = rng.normal();
    if (c.residual == Case::kInPlace) y = res;
    DevBuf<float> dx(x), dw(w), db(bias), dr(res), dy(y);
    Conv2dArgs a;
    a.x = dx.p; a.w = dw.p; a.bias = c.bias ? db.p : nullptr; a.y = dy.p;
    a.residual = c.residual == Case::kSeparate ? dr.p : c.residual == Case::kInPlace ? dy.p : nullptr;
    a.N = c.N; a.Ci = c.Ci; a.Co = c.Co; a.H = c.H; a.W = c.W; a.k = c.k; a.precision = c.precision;
    ASSERT_EQ(dd::cuda_kernels::vae_conv2d(a, 0), cudaSuccess);
    const auto got = dy.get();

    const int pad = (c.k - 1) / 2;
    int bad = 0;
    double worst = 0;
    for (int n = 0; n < c.N; ++n)
        for (int o = 0; o < c.Co; ++o)
            for (int i = 0; i < c.H; ++i)
                for (int j = 0; j < c.W; ++j) {
                    const int64_t idx = ((int64_t)n * c.Co + o) * HW + i * c.W + j;
                    double acc = 0, mag = 0;
                    for (int ci = 0; ci < c.Ci; ++ci)
                        for (int u = 0; u < c.k; ++u)
                            for (int v = 0; v < c.k; ++v) {
                                const int si = i + u - pad, sj = j + v - pad;
                                if (si < 0 || si >= c.H || sj < 0 || sj >= c.W) continue;
                                const float xv = x[((int64_t)n * c.Ci + ci) * HW + si * c.W + sj];
                                const float wv = w[o * K + (ci * c.k + u) * c.k + v];
                                const double p = tf ? tf32(xv) * tf32(wv) : (double)xv * wv;
                                acc += p;
                                mag += std::fabs(p);
                            }
                    const double extra = (c.bias ? bias[o] : 0.0) + (c.residual != Case::kNone ? res[idx] : 0.0);
                    const double ref = acc + extra;
                    // TF32: the reference takes the tf32-rounded operands, so what remains is fp32 accumulation
                    // (<= K * 2^-24 of sum |terms| ~ 7e-6 at K = 117; tensor cores may truncate, hence 2e-5),
                    // then two fp32 additions (bias, residual). Dropping the tf32 conversion costs ~1e-3 per
                    // product and fails this. fp32: 1e-5.
                    const double tol = (tf ? 2e-5 : 1e-5) * mag + 1e-6 * (1.0 + std::fabs(acc) + std::fabs(extra));
                    const double e = std::fabs(got[idx] - ref);
                    worst = std::max(worst, e / tol);
                    bad += !(e <= tol);
                }
    EXPECT_EQ(bad, 0) << "conv2d mismatch in " << bad << " of " << y.size() << "; worst error / tolerance " << worst;
}

}  // namespace

TEST(EmuVaeConv2d, Small3x3BothPrecisions) {
    for (ConvPrecision pr : {ConvPrecision::kTf32, ConvPrecision::kFp32}) {
        Case c;
        c.precision = pr;
        check(c);
    }
}
TEST(EmuVaeConv2d, TilesAndTails3x3) {
    Case c;
    c.N = 1; c.Ci = 13; c.Co = 70; c.H = 9; c.W = 11;  // K 117: 4 k tiles; 2 channel tiles; 99 px: 2 pixel tiles
    check(c);
    c.residual = Case::kInPlace;
    c.bias = false;
    c.precision = ConvPrecision::kFp32;
    check(c);
}
TEST(EmuVaeConv2d, OneByOne) {
    Case c;
    c.k = 1; c.Ci = 24; c.Co = 9; c.H = 5; c.W = 14;  // 1x1: no padding, K = Ci
    check(c);
    c.residual = Case::kNone;
    c.precision = ConvPrecision::kFp32;
    check(c);
}
TEST(EmuVaeConv2d, OnePixelAndRejects) {
    Case c;
    c.N = 1; c.Ci = 3; c.Co = 2; c.H = 1; c.W = 1;  // only the centre tap sees the image
    check(c);
    DevBuf<float> buf(16);
    Conv2dArgs a;
    a.x = a.w = buf.p; a.y = buf.p;
    a.N = 1; a.Ci = 1; a.Co = 1; a.H = 2; a.W = 2; a.k = 5;
    EXPECT_EQ(dd::cuda_kernels::vae_conv2d(a, 0), cudaErrorInvalidValue);  // only 1x1 and 3x3
    a.k = 3; a.N = 0;
    EXPECT_EQ(dd::cuda_kernels::vae_conv2d(a, 0), cudaSuccess);  // empty
}
