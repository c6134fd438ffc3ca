// dd_layernorm_modulate against the double reference: shift/scale as chunk views of one adaLN
// modulation tensor, NULL shift/scale, in place, and strided token views.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t N = 3, T = 37, D = 72;
constexpr float kEps = 1e-6f;  // DiT's LayerNorm eps

// Per row: the fp32 mean is within gamma_D = D * 2^-24 = 4.3e-6 of the exact one relative to mean|x|,
// centring adds 2^-24 |x - mean|, the variance (and so rstd) carries about gamma_D / 2 relative
// error, and modulation two more roundings. Scaled the way the output scales them (rstd, 1 + scale,
// plus |shift|) that sum stays below 1e-5 times the reference's magnitude for D = 72.
constexpr Tolerance kLayerNorm{1e-5, 1e-5, 0};

// x with a different offset per row, so the mean matters.
std::vector<float> rows_with_offsets(Random& rng) {
    auto xs = rng.uniform(N * T * D, -1, 1);
    auto offsets = rng.uniform(N * T, -3, 3);
    for (int64_t r = 0; r < N * T; ++r)
        for (int64_t i = 0; i < D; ++i) xs[r * D + i] = xs[r * D + i] * 2.0f + offsets[r];
    return xs;
}

class LayerNormModulateTest : public OpTest {};

// The adaLN output of a DiT block is one [N,6D] tensor; shift and scale are its chunks 3 and 4, i.e.
// [N,D] views at row stride 6D.
TEST_P(LayerNormModulateTest, ShiftAndScaleAsChunkViewsOfAda) {
    auto xs = rows_with_offsets(rng), ada = rng.uniform(N * 6 * D, -1, 1);
    Tensor x = upload_f32(backend(), xs, {N, T, D}), a = upload_f32(backend(), ada, {N, 6 * D});
    Tensor shift = view(a, {N, D}, {6 * D, 1}, 3 * D), scale = view(a, {N, D}, {6 * D, 1}, 4 * D);
    Tensor y = new_tensor(backend(), DD_F32, {N, T, D});
    DD_RUN_OP(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), kEps, y.get()));
    const auto want = ddref::layernorm_modulate(xs, column_slice(ada, N, 6 * D, 3 * D, D),
                                                column_slice(ada, N, 6 * D, 4 * D, D), N, T, D, kEps);
    EXPECT_TRUE(AllClose(download(y.get()), want, kLayerNorm));
}

TEST_P(LayerNormModulateTest, NullShiftAndScaleIsPlainLayerNorm) {
    auto xs = rows_with_offsets(rng);
    Tensor x = upload_f32(backend(), xs, {N, T, D}), y = new_tensor(backend(), DD_F32, {N, T, D});
    DD_RUN_OP(dd_layernorm_modulate(x.get(), nullptr, nullptr, kEps, y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::layernorm_modulate(xs, {}, {}, N, T, D, kEps), kLayerNorm));
}

TEST_P(LayerNormModulateTest, ShiftOnlyAndScaleOnly) {
    auto xs = rows_with_offsets(rng), ss = rng.uniform(N * D, -1, 1);
    Tensor x = upload_f32(backend(), xs, {N, T, D}), s = upload_f32(backend(), ss, {N, D});
    Tensor y = new_tensor(backend(), DD_F32, {N, T, D});
    {
        SCOPED_TRACE("shift only");
        DD_RUN_OP(dd_layernorm_modulate(x.get(), s.get(), nullptr, kEps, y.get()));
        EXPECT_TRUE(AllClose(download(y.get()), ddref::layernorm_modulate(xs, ss, {}, N, T, D, kEps), kLayerNorm));
    }
    {
        SCOPED_TRACE("scale only");
        DD_RUN_OP(dd_layernorm_modulate(x.get(), nullptr, s.get(), kEps, y.get()));
        EXPECT_TRUE(AllClose(download(y.get()), ddref::layernorm_modulate(xs, {}, ss, N, T, D, kEps), kLayerNorm));
    }
}

TEST_P(LayerNormModulateTest, InPlace) {
    auto xs = rows_with_offsets(rng), ada = rng.uniform(N * 6 * D, -1, 1);
    Tensor x = upload_f32(backend(), xs, {N, T, D}), a = upload_f32(backend(), ada, {N, 6 * D});
    Tensor shift = view(a, {N, D}, {6 * D, 1}, 0), scale = view(a, {N, D}, {6 * D, 1}, D);
    DD_RUN_OP(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), kEps, x.get()));
    const auto want = ddref::layernorm_modulate(xs, column_slice(ada, N, 6 * D, 0, D),
                                                column_slice(ada, N, 6 * D, D, D), N, T, D, kEps);
    EXPECT_TRUE(AllClose(download(x.get()), want, kLayerNorm));
}

// x and y are the first and second halves of the tokens of [N,T,2D] tensors (token stride 2D).
TEST_P(LayerNormModulateTest, TokenStridedViews) {
    auto xs = rng.uniform(N * T * 2 * D, -2, 2), ss = rng.uniform(N * D, -1, 1), gs = rng.uniform(N * D, -1, 1);
    auto ybefore = rng.uniform(N * T * 2 * D, -1, 1);
    Tensor xb = upload_f32(backend(), xs, {N, T, 2 * D}), yb = upload_f32(backend(), ybefore, {N, T, 2 * D});
    Tensor s = upload_f32(backend(), ss, {N, D}), g = upload_f32(backend(), gs, {N, D});
    Tensor x = view(xb, {N, T, D}, {T * 2 * D, 2 * D, 1}, 0), y = view(yb, {N, T, D}, {T * 2 * D, 2 * D, 1}, D);
    DD_RUN_OP(dd_layernorm_modulate(x.get(), s.get(), g.get(), kEps, y.get()));

    const auto yall = download(yb.get());
    std::vector<bool> inside(yall.size(), false);
    for (int64_t r = 0; r < N * T; ++r)
        for (int64_t i = D; i < 2 * D; ++i) inside[r * 2 * D + i] = true;
    EXPECT_TRUE(UntouchedOutside(yall, ybefore, inside));
    const auto want = ddref::layernorm_modulate(column_slice(xs, N * T, 2 * D, 0, D), ss, gs, N, T, D, kEps);
    EXPECT_TRUE(AllClose(column_slice(yall, N * T, 2 * D, D, D), want, kLayerNorm));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(LayerNormModulateTest);

}  // namespace
