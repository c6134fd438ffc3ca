// DiffCR's routing ops against the references: per-row top-k (ties to the lower index, k = 1 and
// k = T), row scatter (round trip with gather), per-row scaling and sigmoid; then their error paths.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "reference_routing.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// Row copies are bit exact.
constexpr Tolerance kExact{0, 0, 0};
// x * s of two floats is one correctly rounded product: within 2^-24 of the exact (double) product,
// relative.
constexpr Tolerance kScaleRows{0x1p-24, 0, 0};
// fp32 sigmoid 1 / (1 + E), E = exp(-x) with relative error e_exp: the sum and the quotient round
// once each (2 * 2^-24 relative) and E's error reaches the result scaled by E / (1 + E) < 1, so the
// relative error is below e_exp + 2^-23. With e_exp <= 2 ulp = 2^-22 (CUDA's documented expf bound;
// glibc's expf is below 1 ulp) that is 3.6e-7; rtol 4e-7. atol FLT_MIN: for x < -87.3 the result is
// subnormal (fixed spacing 2^-149, no relative precision left) and below -88.7 exp overflows and the
// result is 0 where the true value is under 3e-39; both stay within FLT_MIN of the reference.
constexpr Tolerance kSigmoid{4e-7, 0, FLT_MIN};

// ---- dd_topk_rows ----

class TopkRowsTest : public OpTest {
protected:
    // Runs top-k on `scores` (dense values `dense` [n,t], possibly viewed) into a sentinel-filled index
    // and compares with the reference, exactly.
    void check(const Tensor& scores, const std::vector<float>& dense, int64_t n, int64_t t, int k) {
        SCOPED_TRACE("k = " + std::to_string(k));
        Tensor index = upload_i32(backend(), std::vector<int32_t>((size_t)(n * k), -7), {n, (int64_t)k});
        DD_RUN_OP(dd_topk_rows(scores.get(), k, index.get()));
        EXPECT_EQ(download<int32_t>(index.get()), ddref::topk_rows(dense, n, t, k));
    }
};

// Random scores as columns [2, 2+T) of [N,T+5] rows; k from 1 to T.
TEST_P(TopkRowsTest, RandomScoresEveryKindOfK) {
    const int64_t Nr = 5, T = 37, SW = T + 5;
    const auto base = rng.uniform(Nr * SW, -1, 1);
    Tensor sb = upload_f32(backend(), base, {Nr, SW}), scores = view(sb, {Nr, T}, {SW, 1}, 2);
    const auto dense = column_slice(base, Nr, SW, 2, T);
    for (int k : {1, 2, 17, 36, 37}) check(scores, dense, Nr, T, k);
}

// Deliberate ties, placed so they straddle the cut: row 0 all equal (the first k indices win); row 1
// three distinct values repeated; row 2 pairs of equal values in descending runs; row 3 signed zeros
// (-0 == +0: a tie) among a few negatives and one positive.
TEST_P(TopkRowsTest, TiesGoToTheLowerIndex) {
    const int64_t Nr = 4, T = 37;
    const auto v = rng.uniform(4, 0.25f, 1);  // fresh tie values
    std::vector<float> dense((size_t)(Nr * T));
    for (int64_t t = 0; t < T; ++t) {
        dense[0 * T + t] = v[0];
        dense[1 * T + t] = (t % 3 == 0) ? v[1] : (t % 3 == 1) ? -v[1] : v[2];
        dense[2 * T + t] = v[3] * (float)((T - t) / 2);  // t = 2j and 2j+1 share a value
        dense[3 * T + t] = (t % 4 == 0) ? 0.f : (t % 4 == 1) ? -0.f : -v[0] * (float)(t + 1);
    }
    dense[3 * T + 30] = v[2];
    Tensor scores = upload_f32(backend(), dense, {Nr, T});
    for (int k : {1, 2, 5, 12, 13, 36, 37}) check(scores, dense, Nr, T, k);
}

// 64 x 300 scores quantised to eighths (many ties at every cut): N * T passes the CPU backend's 2^14
// threading threshold.
TEST_P(TopkRowsTest, ManyRowsWithQuantisedScores) {
    const int64_t Nr = 64, T = 300;
    auto dense = rng.uniform(Nr * T, -1, 1);
    for (float& s : dense) s = std::round(s * 8) / 8;
    Tensor scores = upload_f32(backend(), dense, {Nr, T});
    for (int k : {1, 37, 299, 300}) check(scores, dense, Nr, T, k);
}

DD_INSTANTIATE_ON_ALL_BACKENDS(TopkRowsTest);

// ---- dd_scatter_rows ----

// K distinct rows of [0, R) in random order, the first and last row among them.
std::vector<int32_t> distinct_rows(Random& rng, int64_t K, int32_t R) {
    std::vector<int32_t> perm((size_t)R);
    for (int32_t i = 0; i < R; ++i) perm[i] = i;
    const auto r = rng.indices((size_t)R, R);
    for (int32_t i = R - 1; i > 0; --i) std::swap(perm[i], perm[r[i] % (i + 1)]);
    perm.resize((size_t)K);
    if (K >= 2 && std::find(perm.begin(), perm.end(), 0) == perm.end()) perm[0] = 0;
    if (K >= 2 && std::find(perm.begin(), perm.end(), R - 1) == perm.end()) perm[1] = R - 1;
    return perm;
}

class ScatterRowsTest : public OpTest {
protected:
    // Scatters src [K,D] (columns [1, 1+D) of [K,D+2] rows) into dst (columns [c0, c0+D) of [R,D+9]
    // rows, random before), checks listed rows = src and everything else untouched, then gathers the
    // same rows back and gets src exactly.
    void round_trip(int64_t R, int64_t K, int64_t D) {
        const int64_t SW = D + 2, DW = D + 9, c0 = 4;
        const auto sbase = rng.uniform(K * SW, -1, 1), before = rng.uniform(R * DW, -1, 1);
        const auto idx = distinct_rows(rng, K, (int32_t)R);
        Tensor sb = upload_f32(backend(), sbase, {K, SW}), src = view(sb, {K, D}, {SW, 1}, 1);
        Tensor db = upload_f32(backend(), before, {R, DW}), dst = view(db, {R, D}, {DW, 1}, c0);
        Tensor index = upload_i32(backend(), idx, {K});
        DD_RUN_OP(dd_scatter_rows(dst.get(), index.get(), src.get()));

        const auto after = download(db.get());
        std::vector<float> want = before;
        std::vector<bool> inside(after.size(), false);
        for (int64_t i = 0; i < K; ++i)
            for (int64_t c = 0; c < D; ++c) {
                want[idx[i] * DW + c0 + c] = sbase[i * SW + 1 + c];
                inside[idx[i] * DW + c0 + c] = true;
            }
        EXPECT_TRUE(UntouchedOutside(after, before, inside)) << "rows not listed, or columns outside the view";
        EXPECT_EQ(after, want);

        Tensor back = new_tensor(backend(), DD_F32, {K, D});
        DD_RUN_OP(dd_gather_rows(dst.get(), index.get(), back.get()));
        EXPECT_EQ(download(back.get()), column_slice(sbase, K, SW, 1, D)) << "gather after scatter";
    }
};

TEST_P(ScatterRowsTest, RoundTripWithGatherOnRowStridedViews) { round_trip(53, 29, 72); }

// Every row listed once (a permutation), K * D above the CPU backend's 2^15 threading threshold.
TEST_P(ScatterRowsTest, PermutationOfAllRowsAcrossThreads) { round_trip(600, 600, 61); }

TEST_P(ScatterRowsTest, EmptyIndexChangesNothing) {
    const auto before = rng.uniform(53 * 72, -1, 1);
    Tensor dst = upload_f32(backend(), before, {53, 72});
    Tensor index = new_tensor(backend(), DD_I32, {0}), src = new_tensor(backend(), DD_F32, {0, 72});
    DD_RUN_OP(dd_scatter_rows(dst.get(), index.get(), src.get()));
    EXPECT_EQ(download(dst.get()), before);
}

DD_INSTANTIATE_ON_ALL_BACKENDS(ScatterRowsTest);

// ---- dd_scale_rows ----

class ScaleRowsTest : public OpTest {
protected:
    // x is columns [2, 2+D) of [R,D+5] rows; the other columns must stay untouched.
    void check(int64_t R, int64_t D) {
        const int64_t XW = D + 5;
        const auto before = rng.uniform(R * XW, -4, 4), ss = rng.uniform(R, -2, 2);
        Tensor xb = upload_f32(backend(), before, {R, XW}), x = view(xb, {R, D}, {XW, 1}, 2);
        Tensor s = upload_f32(backend(), ss, {R});
        DD_RUN_OP(dd_scale_rows(x.get(), s.get()));
        const auto after = download(xb.get());
        std::vector<bool> inside(after.size(), false);
        for (int64_t r = 0; r < R; ++r)
            for (int64_t c = 2; c < 2 + D; ++c) inside[r * XW + c] = true;
        EXPECT_TRUE(UntouchedOutside(after, before, inside));
        EXPECT_TRUE(AllClose(column_slice(after, R, XW, 2, D),
                             ddref::scale_rows(column_slice(before, R, XW, 2, D), ss, R, D), kScaleRows));
    }
};

TEST_P(ScaleRowsTest, RowStridedView) { check(37, 77); }

// R * D above the CPU backend's 2^15 threading threshold.
TEST_P(ScaleRowsTest, ManyRowsAcrossThreads) { check(500, 77); }

DD_INSTANTIATE_ON_ALL_BACKENDS(ScaleRowsTest);

// ---- dd_sigmoid ----

class SigmoidTest : public OpTest {};

// Random x in [-30, 30) plus the edges: tiny, around 0, the subnormal range and exp's overflow.
TEST_P(SigmoidTest, OutOfPlaceAndInPlaceAgainstDouble) {
    for (int64_t n : {int64_t{4099}, int64_t{40009}}) {
        SCOPED_TRACE("n = " + std::to_string(n));
        auto xs = rng.uniform((size_t)n, -30, 30);
        const float edges[] = {1e-7f, -1e-7f, FLT_TRUE_MIN, -FLT_TRUE_MIN, 0.5f, -0.5f, 17.f, -17.f,
                               87.5f, -87.5f, 88.5f, -88.5f, 89.f, -89.f, 100.f, -100.f};
        for (size_t i = 0; i < sizeof edges / sizeof *edges; ++i) xs[i * 11] = edges[i];
        const auto want = ddref::sigmoid(xs);
        Tensor x = upload_f32(backend(), xs, {n}), y = new_tensor(backend(), DD_F32, {n});
        DD_RUN_OP(dd_sigmoid(x.get(), y.get()));
        EXPECT_TRUE(AllClose(download(y.get()), want, kSigmoid)) << "out of place";
        DD_RUN_OP(dd_sigmoid(x.get(), x.get()));
        EXPECT_TRUE(AllClose(download(x.get()), want, kSigmoid)) << "in place";
    }
}

TEST_P(SigmoidTest, Rank2Tensor) {
    const auto xs = rng.uniform(37 * 3, -8, 8);
    Tensor x = upload_f32(backend(), xs, {37, 3}), y = new_tensor(backend(), DD_F32, {37, 3});
    DD_RUN_OP(dd_sigmoid(x.get(), y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::sigmoid(xs), kSigmoid));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(SigmoidTest);

// ---- error paths (CPU tensors) ----

Tensor f32(const Shape& s) { return upload_f32(all_backends()[0], std::vector<float>(numel(s), 0.5f), s); }

TEST(TopkRowsErrors, KOutOfRangeShapesAndDtypes) {
    const int64_t Nr = 5, T = 37;
    Tensor scores = f32({Nr, T}), scores_i = new_cpu(DD_I32, {Nr, T});
    const std::vector<int32_t> sentinel(Nr * 3, -7);
    Tensor index = upload_i32(all_backends()[0], sentinel, {Nr, 3});
    for (int k : {0, -1, 38}) {
        Tensor index_k = new_cpu(DD_I32, {Nr, k > 0 ? k : 1});
        const std::string want = "k = " + std::to_string(k);
        EXPECT_TRUE(FailsWith(dd_topk_rows(scores.get(), k, index_k.get()), DD_ERR_INVALID_ARGUMENT,
                              {"dd_topk_rows", want.c_str(), "[1, 37]"}));
    }
    EXPECT_TRUE(FailsWith(dd_topk_rows(scores.get(), 4, index.get()), DD_ERR_SHAPE,
                          {"dd_topk_rows", "'index'", "[5,3]", "[5,4]"}));
    EXPECT_TRUE(FailsWith(dd_topk_rows(scores_i.get(), 3, index.get()), DD_ERR_DTYPE, {"'scores'", "i32", "f32"}));
    Tensor index_f = new_cpu(DD_F32, {Nr, 3});
    EXPECT_TRUE(FailsWith(dd_topk_rows(scores.get(), 3, index_f.get()), DD_ERR_DTYPE, {"'index'", "f32", "i32"}));
    Tensor wide = new_cpu(DD_I32, {Nr, 6}), strided = view(wide, {Nr, 3}, {6, 2}, 0);
    EXPECT_TRUE(FailsWith(dd_topk_rows(scores.get(), 3, strided.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'index'", "contiguous"}));
    EXPECT_TRUE(FailsWith(dd_topk_rows(nullptr, 3, index.get()), DD_ERR_INVALID_ARGUMENT, {"'scores'", "NULL"}));
    EXPECT_EQ(download<int32_t>(index.get()), sentinel);
}

TEST(ScatterRowsErrors, IndexOutOfRangeShapesDtypesAndOverlap) {
    const int64_t R = 53, D = 72, K = 29;
    const std::vector<float> sentinel(R * D, -7.f);
    Tensor dst = upload_f32(all_backends()[0], sentinel, {R, D}), src = f32({K, D});
    std::vector<int32_t> idx(K);
    for (int64_t i = 0; i < K; ++i) idx[i] = (int32_t)i;
    Tensor index = upload_i32(all_backends()[0], idx, {K});
    idx[K - 1] = (int32_t)R;
    Tensor past_end = upload_i32(all_backends()[0], idx, {K});
    idx[K - 1] = K - 1, idx[3] = -2;
    Tensor negative = upload_i32(all_backends()[0], idx, {K});
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), past_end.get(), src.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_scatter_rows", "'index'[28] = 53", "[0, 53)"}));
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), negative.get(), src.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'index'[3] = -2"}));
    Tensor tall_src = f32({K + 1, D}), src_i = new_cpu(DD_I32, {K, D}), index64 = new_cpu(DD_I64, {K});
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), index.get(), tall_src.get()), DD_ERR_SHAPE,
                          {"'src'", "[30,72]", "[29,72]"}));
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), index.get(), src_i.get()), DD_ERR_DTYPE, {"'src'", "i32", "f32"}));
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), index64.get(), src.get()), DD_ERR_DTYPE,
                          {"'index'", "i64", "i32"}));
    // src = the last K rows of dst itself
    Tensor src_in_dst = view(dst, {K, D}, {D, 1}, (R - K) * D);
    EXPECT_TRUE(FailsWith(dd_scatter_rows(dst.get(), index.get(), src_in_dst.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_scatter_rows", "'dst'", "'src'", "overlaps"}));
    EXPECT_EQ(download(dst.get()), sentinel);
}

TEST(ScaleRowsErrors, EachCheckNamesTheTensor) {
    const int64_t R = 37, D = 77;
    const std::vector<float> sentinel(R * D, -7.f);
    Tensor x = upload_f32(all_backends()[0], sentinel, {R, D});
    Tensor s_long = f32({R + 1}), s_i = new_cpu(DD_I32, {R}), s2 = f32({R, 1});
    Tensor sb = f32({2 * R}), s_strided = view(sb, {R}, {2}, 0);
    EXPECT_TRUE(FailsWith(dd_scale_rows(x.get(), s_long.get()), DD_ERR_SHAPE, {"dd_scale_rows", "'s'", "[38]", "[37]"}));
    EXPECT_TRUE(FailsWith(dd_scale_rows(x.get(), s_i.get()), DD_ERR_DTYPE, {"'s'", "i32", "f32"}));
    EXPECT_TRUE(FailsWith(dd_scale_rows(x.get(), s2.get()), DD_ERR_SHAPE, {"'s'", "[37,1]", "rank 1"}));
    EXPECT_TRUE(FailsWith(dd_scale_rows(x.get(), s_strided.get()), DD_ERR_INVALID_ARGUMENT, {"'s'", "contiguous"}));
    EXPECT_TRUE(FailsWith(dd_scale_rows(nullptr, s_long.get()), DD_ERR_INVALID_ARGUMENT, {"'x'", "NULL"}));
    EXPECT_EQ(download(x.get()), sentinel);
}

TEST(SigmoidErrors, EachCheckNamesTheTensor) {
    Tensor x = f32({100}), y = f32({100}), y2 = f32({10, 10}), xi = new_cpu(DD_I32, {100});
    EXPECT_TRUE(FailsWith(dd_sigmoid(xi.get(), y.get()), DD_ERR_DTYPE, {"dd_sigmoid", "'x'", "i32"}));
    EXPECT_TRUE(FailsWith(dd_sigmoid(x.get(), y2.get()), DD_ERR_SHAPE, {"dd_sigmoid", "'y'", "[10,10]", "rank 1"}));
    EXPECT_TRUE(FailsWith(dd_sigmoid(nullptr, y.get()), DD_ERR_INVALID_ARGUMENT, {"'x'", "NULL"}));
}

}  // namespace
