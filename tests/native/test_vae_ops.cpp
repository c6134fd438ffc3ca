// The VAE ops of dyndit_vae.h (conv2d, group_norm, upsample_nearest2x, transpose_last2) against naive
// double references, on every backend this machine has (the CUDA device: the vae_* kernels; conv once per
// GEMM precision), plus their error paths.
#include <cmath>

#include "compare.h"
#include "dyndit/dyndit_vae.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// ---- double references (dense NCHW host arrays) ----

// PyTorch Conv2d, stride 1, zero padding (k-1)/2; magnitude = |bias| + |residual| + sum |w x|.
ddref::Expected conv2d_ref(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias,
                           const std::vector<float>& residual, int64_t N, int64_t Ci, int64_t H, int64_t W,
                           int64_t Co, int64_t kh, int64_t kw) {
    ddref::Expected e = ddref::sized((size_t)(N * Co * H * W));
    const int64_t ph = (kh - 1) / 2, pw = (kw - 1) / 2;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < Co; ++o)
            for (int64_t i = 0; i < H; ++i)
                for (int64_t j = 0; j < W; ++j) {
                    const size_t at = (size_t)(((n * Co + o) * H + i) * W + j);
                    double s = bias.empty() ? 0.0 : bias[o], m = std::fabs(s);
                    if (!residual.empty()) s += residual[at], m += std::fabs(residual[at]);
                    for (int64_t c = 0; c < Ci; ++c)
                        for (int64_t a = 0; a < kh; ++a)
                            for (int64_t b = 0; b < kw; ++b) {
                                const int64_t si = i + a - ph, sj = j + b - pw;
                                if (si < 0 || si >= H || sj < 0 || sj >= W) continue;
                                const double p = (double)w[((o * Ci + c) * kh + a) * kw + b] *
                                                 x[((n * Ci + c) * H + si) * W + sj];
                                s += p;
                                m += std::fabs(p);
                            }
                    e.value[at] = s;
                    e.magnitude[at] = m;
                }
    return e;
}

// GroupNorm (biased variance) + affine (+ SiLU); magnitude = rstd * (mean|x| + |x - mean|) * |gamma| + |beta|,
// the scale at which the fp32 statistics' error reaches the output.
ddref::Expected group_norm_ref(const std::vector<float>& x, const std::vector<float>& gamma,
                               const std::vector<float>& beta, int64_t N, int64_t C, int64_t HW, int64_t G, double eps,
                               bool silu) {
    ddref::Expected e = ddref::sized(x.size());
    const int64_t cpg = C / G, count = cpg * HW;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t g = 0; g < G; ++g) {
            const float* v = &x[(size_t)((n * C + g * cpg) * HW)];
            double mean = 0, mean_abs = 0, var = 0;
            for (int64_t i = 0; i < count; ++i) mean += v[i], mean_abs += std::fabs(v[i]);
            mean /= count;
            mean_abs /= count;
            for (int64_t i = 0; i < count; ++i) var += (v[i] - mean) * (v[i] - mean);
            const double rstd = 1.0 / std::sqrt(var / count + eps);
            for (int64_t i = 0; i < count; ++i) {
                const int64_t ch = g * cpg + i / HW;
                const double ga = gamma.empty() ? 1.0 : gamma[ch], be = beta.empty() ? 0.0 : beta[ch];
                double y = (v[i] - mean) * rstd * ga + be;
                double m = rstd * (mean_abs + std::fabs(v[i] - mean)) * std::fabs(ga) + std::fabs(be);
                if (silu) y = y / (1.0 + std::exp(-y));
                const size_t at = (size_t)((n * C + g * cpg) * HW + i);
                e.value[at] = y;
                e.magnitude[at] = m;
            }
        }
    return e;
}

// ---- tolerances ----
// conv: an fp32 dot product of K = Ci*kh*kw terms, blocked by the GEMM; 1e-5 of sum|w x| covers K in the
// thousands with the usual sqrt(K) growth of rounding (the worst case K * 2^-24 = 3e-4 never happens).
constexpr Tolerance kConv{1e-6, 1e-5, 0};
// On a CUDA device in TF32 or BF16 the conv runs on tf32 tensor cores (vae_conv2d has no bf16 path: bf16
// models convolve in tf32), so the rounded-operand bound of compare.h with u = 2^-11 and K = Ci*kh*kw
// (K = 54: 1.0e-3 of the magnitude; K = 5400: 1.6e-3): conv_tolerance below.
// GroupNorm: statistics in float blocks added in double (~1e-7), the normalisation and SiLU's exp
// (~2e-7 relative) add a few ulps.
constexpr Tolerance kGroupNorm{2e-6, 2e-6, 1e-7};

class VaeOpsTest : public OpTest {};
class VaeConvTest : public OpTest {};

struct ConvCase {
    int64_t N, Ci, H, W, Co, kh, kw;
};

// On the CPU in bf16 the k x k convolutions (k > 1) round x and w to bf16 (oneDNN bf16 convolution, fp32
// accumulation): the same bound with u = 2^-8; 1x1 convolutions stay fp32 matmuls there.
Tolerance conv_tolerance(const Backend& b, const ConvCase& c) {
    if (b.device_type == DD_DEVICE_CPU) {
        const bool bf16 = b.precision == DD_PRECISION_BF16 && (c.kh > 1 || c.kw > 1);
        return bf16 ? rounded_operand_gemm(bf16_unit_roundoff(), c.Ci * c.kh * c.kw, kConv) : kConv;
    }
    if (b.precision == DD_PRECISION_FP32) return kConv;
    return rounded_operand_gemm(tf32_unit_roundoff(), c.Ci * c.kh * c.kw, kConv);
}

// Runs one conv case with bias, optionally with a separate or in-place residual, against the reference.
void check_conv(Random& rng, const Backend& be, const ConvCase& c, bool with_bias, int residual_mode) {
    const auto x = rng.uniform(c.N * c.Ci * c.H * c.W, -1, 1);
    const auto w = rng.uniform(c.Co * c.Ci * c.kh * c.kw, -0.5, 0.5);
    const auto b = with_bias ? rng.uniform(c.Co, -0.5, 0.5) : std::vector<float>{};
    const Shape ys{c.N, c.Co, c.H, c.W};
    const auto r = residual_mode ? rng.uniform(numel(ys), -2, 2) : std::vector<float>{};
    Tensor X = upload_f32(be, x, {c.N, c.Ci, c.H, c.W}), Wt = upload_f32(be, w, {c.Co, c.Ci, c.kh, c.kw});
    Tensor B = with_bias ? upload_f32(be, b, {c.Co}) : Tensor();
    Tensor Y = residual_mode == 2 ? upload_f32(be, r, ys) : new_tensor(be, DD_F32, ys);
    Tensor R = residual_mode == 1 ? upload_f32(be, r, ys) : Tensor();
    const dd_tensor* res = residual_mode == 1 ? R.get() : residual_mode == 2 ? Y.get() : nullptr;
    const dd_status s = dd_conv2d(X.get(), Wt.get(), B.get(), res, Y.get());
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(Y.get()), conv2d_ref(x, w, b, r, c.N, c.Ci, c.H, c.W, c.Co, c.kh, c.kw),
                         conv_tolerance(be, c)))
        << "case N=" << c.N << " Ci=" << c.Ci << " H=" << c.H << " W=" << c.W << " Co=" << c.Co << " k=" << c.kh
        << "x" << c.kw << " residual_mode=" << residual_mode;
}

TEST_P(VaeConvTest, Conv3x3OddSizesWithBias) {
    check_conv(rng, backend(), {2, 5, 7, 9, 6, 3, 3}, true, 0);
}

TEST_P(VaeConvTest, Conv3x3WithoutBiasOneRowAndOneColumn) {
    check_conv(rng, backend(), {1, 3, 1, 6, 4, 3, 3}, false, 0);
    check_conv(rng, backend(), {1, 3, 6, 1, 4, 3, 3}, false, 0);
}

TEST_P(VaeConvTest, Conv1x1IsAChannelGemm) {
    check_conv(rng, backend(), {2, 12, 5, 7, 8, 1, 1}, true, 0);
}

// The CUDA kernel takes square kernels only (the SD-VAE has 3x3 and 1x1): on a device the test checks
// that documented refusal, on the CPU the result.
TEST_P(VaeConvTest, ConvNonSquareKernel) {
    if (backend().device_type != DD_DEVICE_CPU) {
        Tensor x = new_tensor(backend(), DD_F32, {1, 4, 6, 8}), w = new_tensor(backend(), DD_F32, {5, 4, 5, 3});
        Tensor y = new_tensor(backend(), DD_F32, {1, 5, 6, 8});
        EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w.get(), nullptr, nullptr, y.get()), DD_ERR_UNSUPPORTED,
                              {"vae_conv2d", "square kernels only", "5x3"}));
        return;
    }
    check_conv(rng, backend(), {1, 4, 6, 8, 5, 5, 3}, true, 0);
}

TEST_P(VaeConvTest, ConvSeparateResidual) {
    check_conv(rng, backend(), {2, 6, 5, 5, 6, 3, 3}, true, 1);
}

TEST_P(VaeConvTest, ConvInPlaceResidual) {
    check_conv(rng, backend(), {2, 6, 5, 5, 6, 3, 3}, true, 2);
    check_conv(rng, backend(), {1, 6, 5, 5, 7, 1, 1}, false, 2);
}

// The CPU keeps each weight in the convolution's preferred layout (reordered once): writing new values into the
// same weight tensor must give the new convolution, not the one of the old layout copy.
TEST_P(VaeConvTest, ConvFollowsRewrittenWeights) {
    const Backend& be = backend();
    const ConvCase c{1, 8, 6, 7, 16, 3, 3};
    const auto x = rng.uniform(c.N * c.Ci * c.H * c.W, -1, 1);
    Tensor X = upload_f32(be, x, {c.N, c.Ci, c.H, c.W}), Wt = new_tensor(be, DD_F32, {c.Co, c.Ci, c.kh, c.kw});
    Tensor Y = new_tensor(be, DD_F32, {c.N, c.Co, c.H, c.W});
    for (int round = 0; round < 2; ++round) {
        const auto w = rng.uniform(c.Co * c.Ci * c.kh * c.kw, -0.5, 0.5);
        ASSERT_EQ(dd_tensor_write(Wt.get(), w.data(), w.size() * sizeof(float), 0), DD_OK) << dd_last_error();
        DD_RUN_OP(dd_conv2d(X.get(), Wt.get(), nullptr, nullptr, Y.get()));
        EXPECT_TRUE(AllClose(download(Y.get()), conv2d_ref(x, w, {}, {}, c.N, c.Ci, c.H, c.W, c.Co, c.kh, c.kw),
                             conv_tolerance(be, c)))
            << "weights written " << round + 1 << " time(s)";
    }
}

// Big enough for several pixel tiles per sample on every backend (K = 5400) and for the threaded path; the
// result must not depend on where the tiles fall.
TEST_P(VaeConvTest, ConvManyPixelTiles) {
    check_conv(rng, backend(), {1, 600, 40, 41, 20, 3, 3}, true, 0);
}

// Few pixels, many channels: the work is split over output channels instead.
TEST_P(VaeConvTest, ConvManyChannelsFewPixels) {
    check_conv(rng, backend(), {1, 256, 2, 2, 256, 3, 3}, true, 1);
}

TEST_P(VaeOpsTest, GroupNormAffineSilu) {
    const int64_t N = 2, C = 12, H = 5, W = 7, G = 4;
    const auto x = rng.uniform(N * C * H * W, -3, 3), g = rng.uniform(C, 0.5, 1.5), b = rng.uniform(C, -0.5, 0.5);
    Tensor X = upload_f32(backend(), x, {N, C, H, W}), Gt = upload_f32(backend(), g, {C}), Bt = upload_f32(backend(), b, {C});
    Tensor Y = new_tensor(backend(), DD_F32, {N, C, H, W});
    ASSERT_EQ(dd_group_norm(X.get(), Gt.get(), Bt.get(), (int)G, 1e-6f, 1, Y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(Y.get()), group_norm_ref(x, g, b, N, C, H * W, G, 1e-6, true), kGroupNorm));
    ASSERT_EQ(dd_group_norm(X.get(), Gt.get(), Bt.get(), (int)G, 1e-6f, 0, Y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(Y.get()), group_norm_ref(x, g, b, N, C, H * W, G, 1e-6, false), kGroupNorm));
}

TEST_P(VaeOpsTest, GroupNormWithoutAffineInPlace) {
    const int64_t N = 3, C = 8, H = 4, W = 4, G = 8;
    const auto x = rng.uniform(N * C * H * W, -2, 2);
    Tensor X = upload_f32(backend(), x, {N, C, H, W});
    ASSERT_EQ(dd_group_norm(X.get(), nullptr, nullptr, (int)G, 1e-5f, 0, X.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(X.get()), group_norm_ref(x, {}, {}, N, C, H * W, G, 1e-5, false), kGroupNorm));
}

// A large group (4 x 64 x 64 = 16384 values) far from zero mean: the blocked sums must keep the
// statistics accurate where one long float sum would drift.
TEST_P(VaeOpsTest, GroupNormLargeOffsetGroup) {
    const int64_t N = 1, C = 8, H = 64, W = 64, G = 2;
    auto x = rng.uniform(N * C * H * W, -1, 1);
    for (float& v : x) v += 20.f;
    const auto g = rng.uniform(C, 0.5, 1.5), b = rng.uniform(C, -0.5, 0.5);
    Tensor X = upload_f32(backend(), x, {N, C, H, W}), Gt = upload_f32(backend(), g, {C}), Bt = upload_f32(backend(), b, {C});
    Tensor Y = new_tensor(backend(), DD_F32, {N, C, H, W});
    ASSERT_EQ(dd_group_norm(X.get(), Gt.get(), Bt.get(), (int)G, 1e-6f, 1, Y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(Y.get()), group_norm_ref(x, g, b, N, C, H * W, G, 1e-6, true), kGroupNorm));
}

TEST_P(VaeOpsTest, UpsampleNearest2xCopiesExactly) {
    const int64_t N = 2, C = 3, H = 3, W = 5;
    const auto x = rng.uniform(N * C * H * W, -1, 1);
    Tensor X = upload_f32(backend(), x, {N, C, H, W}), Y = new_tensor(backend(), DD_F32, {N, C, 2 * H, 2 * W});
    ASSERT_EQ(dd_upsample_nearest2x(X.get(), Y.get()), DD_OK) << dd_last_error();
    const auto y = download(Y.get());
    for (int64_t p = 0; p < N * C; ++p)
        for (int64_t i = 0; i < 2 * H; ++i)
            for (int64_t j = 0; j < 2 * W; ++j)
                ASSERT_EQ(y[(p * 2 * H + i) * 2 * W + j], x[(p * H + i / 2) * W + j / 2]) << p << "," << i << "," << j;
}

// Sizes off the 32-block grid; no residual, a separate one, and y += x^T in place.
TEST_P(VaeOpsTest, TransposeLast2WithResiduals) {
    const int64_t B = 2, R = 37, S = 70;
    const auto x = rng.uniform(B * R * S, -1, 1), r = rng.uniform(B * R * S, -1, 1);
    Tensor X = upload_f32(backend(), x, {B, R, S}), Rt = upload_f32(backend(), r, {B, S, R});
    Tensor Y = new_tensor(backend(), DD_F32, {B, S, R}), Yi = upload_f32(backend(), r, {B, S, R});
    for (int mode = 0; mode < 3; ++mode) {
        dd_tensor* out = mode == 2 ? Yi.get() : Y.get();
        const dd_tensor* res = mode == 0 ? nullptr : mode == 1 ? Rt.get() : Yi.get();
        ASSERT_EQ(dd_transpose_last2(X.get(), res, out), DD_OK) << dd_last_error();
        const auto y = download(out);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t s = 0; s < S; ++s)
                for (int64_t q = 0; q < R; ++q) {
                    const size_t at = (size_t)((b * S + s) * R + q);
                    const float want = x[(b * R + q) * S + s] + (mode ? r[at] : 0.f);
                    ASSERT_EQ(y[at], want) << "mode " << mode << " at " << b << "," << s << "," << q;
                }
    }
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(VaeConvTest);
DD_INSTANTIATE_ON_ALL_BACKENDS(VaeOpsTest);

// ---- error paths (CPU) ----

Tensor f32(const Shape& s) { return upload_f32(all_backends()[0], std::vector<float>(numel(s), 0.5f), s); }

TEST(VaeOpErrors, ConvShapesNameTensorAndShapes) {
    Tensor x = f32({2, 4, 5, 6}), w = f32({8, 4, 3, 3}), b = f32({8}), y = f32({2, 8, 5, 6});
    Tensor w_ci = f32({8, 3, 3, 3}), w_even = f32({8, 4, 2, 2}), b_long = f32({9}), y_small = f32({2, 8, 5, 5});
    EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w_ci.get(), b.get(), nullptr, y.get()), DD_ERR_SHAPE,
                          {"dd_conv2d", "'w'", "[8,3,3,3]", "[*,4,*,*]"}));
    EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w_even.get(), b.get(), nullptr, y.get()), DD_ERR_SHAPE,
                          {"'w'", "odd"}));
    EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w.get(), b_long.get(), nullptr, y.get()), DD_ERR_SHAPE,
                          {"'bias'", "[9]", "[8]"}));
    EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w.get(), b.get(), nullptr, y_small.get()), DD_ERR_SHAPE,
                          {"'y'", "[2,8,5,5]", "[2,8,5,6]"}));
    EXPECT_TRUE(FailsWith(dd_conv2d(x.get(), w.get(), b.get(), y_small.get(), y.get()), DD_ERR_SHAPE,
                          {"'residual'", "[2,8,5,5]"}));
    EXPECT_TRUE(FailsWith(dd_conv2d(nullptr, w.get(), b.get(), nullptr, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'x'", "NULL"}));
    Tensor xi = new_cpu(DD_I32, {2, 4, 5, 6});
    EXPECT_TRUE(FailsWith(dd_conv2d(xi.get(), w.get(), b.get(), nullptr, y.get()), DD_ERR_DTYPE, {"'x'", "i32"}));
}

TEST(VaeOpErrors, ConvRefusesOverlapAndViews) {
    Tensor big = f32({2, 4, 5, 6}), w = f32({4, 4, 3, 3});
    // y == x: convolution cannot run in place
    EXPECT_TRUE(FailsWith(dd_conv2d(big.get(), w.get(), nullptr, nullptr, big.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'y'", "overlaps", "'x'"}));
    Tensor base = f32({2, 4, 5, 8});
    Tensor strided = view(base, {2, 4, 5, 6}, {160, 40, 8, 1}, 0);
    Tensor y = f32({2, 4, 5, 6});
    EXPECT_TRUE(FailsWith(dd_conv2d(strided.get(), w.get(), nullptr, nullptr, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'x'", "contiguous"}));
}

TEST(VaeOpErrors, NothingWrittenOnFailure) {
    Tensor x = f32({1, 4, 3, 3}), w = f32({4, 5, 3, 3}), y = upload_f32(all_backends()[0], std::vector<float>(36, 7.f),
                                                                          {1, 4, 3, 3});
    EXPECT_EQ(dd_conv2d(x.get(), w.get(), nullptr, nullptr, y.get()), DD_ERR_SHAPE);
    for (float v : download(y.get())) ASSERT_EQ(v, 7.f);
}

TEST(VaeOpErrors, GroupNormArguments) {
    Tensor x = f32({2, 12, 3, 3}), g = f32({12}), b = f32({12}), y = f32({2, 12, 3, 3}), g_short = f32({11});
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g.get(), b.get(), 5, 1e-6f, 1, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_group_norm", "groups = 5", "12 channels"}));
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g.get(), b.get(), 0, 1e-6f, 1, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"groups = 0"}));
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g.get(), nullptr, 4, 1e-6f, 1, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'gamma' and 'beta'"}));
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g_short.get(), b.get(), 4, 1e-6f, 1, y.get()), DD_ERR_SHAPE,
                          {"'gamma'", "[11]", "[12]"}));
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g.get(), b.get(), 4, 0.f, 1, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"eps"}));
    Tensor y_bad = f32({2, 12, 3, 4});
    EXPECT_TRUE(FailsWith(dd_group_norm(x.get(), g.get(), b.get(), 4, 1e-6f, 1, y_bad.get()), DD_ERR_SHAPE,
                          {"'y'", "[2,12,3,4]", "[2,12,3,3]"}));
}

TEST(VaeOpErrors, UpsampleAndTransposeShapes) {
    Tensor x = f32({1, 2, 3, 4}), y_bad = f32({1, 2, 6, 7});
    EXPECT_TRUE(FailsWith(dd_upsample_nearest2x(x.get(), y_bad.get()), DD_ERR_SHAPE,
                          {"dd_upsample_nearest2x", "'y'", "[1,2,6,7]", "[1,2,6,8]"}));
    EXPECT_TRUE(FailsWith(dd_upsample_nearest2x(x.get(), x.get()), DD_ERR_SHAPE, {"'y'"}));
    Tensor t = f32({2, 3, 5}), ty = f32({2, 5, 3}), ty_bad = f32({2, 3, 5}), r_bad = f32({2, 5, 4});
    EXPECT_TRUE(FailsWith(dd_transpose_last2(t.get(), nullptr, ty_bad.get()), DD_ERR_SHAPE,
                          {"dd_transpose_last2", "'y'", "[2,3,5]", "[2,5,3]"}));
    EXPECT_TRUE(FailsWith(dd_transpose_last2(t.get(), r_bad.get(), ty.get()), DD_ERR_SHAPE, {"'residual'", "[2,5,4]"}));
}

}  // namespace
