// dd_gather_rows and dd_scatter_add_rows (the token routing of dynamic DiT) against the reference:
// row-strided views, gate + row_sample, repeated indices, an empty index.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t R = 53, D = 72, K = 29;

// A gather copies floats: bit exact.
constexpr Tolerance kExact{0, 0, 0};
// Each output element of a scatter-add is dst plus up to K rounded products added in index order:
// within (K + 2) * 2^-24 = 1.9e-6 of the exact sum relative to the sum of |terms|.
constexpr Tolerance kScatter{1e-5, 1e-5, 0};

class RowsTest : public OpTest {};

// src is columns [D, 2D) of an [R,3D] tensor; indices repeat and cover the first and last row.
TEST_P(RowsTest, GatherFromRowStridedView) {
    const auto base = rng.uniform(R * 3 * D, -1, 1);
    auto idx = rng.indices(K, R);
    idx[0] = 0, idx[1] = R - 1, idx[2] = idx[3];
    Tensor sb = upload_f32(backend(), base, {R, 3 * D}), index = upload_i32(backend(), idx, {K});
    Tensor src = view(sb, {R, D}, {3 * D, 1}, D), dst = new_tensor(backend(), DD_F32, {K, D});
    DD_RUN_OP(dd_gather_rows(src.get(), index.get(), dst.get()));
    EXPECT_TRUE(AllClose(download(dst.get()), ddref::gather_rows(column_slice(base, R, 3 * D, D, D), idx, D), kExact));
}

TEST_P(RowsTest, GatherWithEmptyIndex) {
    Tensor src = upload_f32(backend(), rng.uniform(R * D, -1, 1), {R, D});
    Tensor index = new_tensor(backend(), DD_I32, {0}), dst = new_tensor(backend(), DD_F32, {0, D});
    DD_RUN_OP(dd_gather_rows(src.get(), index.get(), dst.get()));
}

// The DiT block's gated scatter: g = gate[row_sample[i]] with gate chunk 2 of an [S,6D] adaLN tensor;
// dst is columns [4, 4+D) of an [R,D+9] tensor whose other columns must stay untouched.
TEST_P(RowsTest, ScatterAddWithGateAndRowSample) {
    const int64_t S = 3, W = D + 9, c0 = 4;
    const auto dbefore = rng.uniform(R * W, -1, 1), ss = rng.uniform(K * D, -1, 1), ada = rng.uniform(S * 6 * D, -1, 1);
    auto idx = rng.indices(K, R), rows = rng.indices(K, S);
    idx[5] = idx[9] = idx[20];  // some destination rows get several additions
    Tensor db = upload_f32(backend(), dbefore, {R, W}), index = upload_i32(backend(), idx, {K});
    Tensor src = upload_f32(backend(), ss, {K, D}), a = upload_f32(backend(), ada, {S, 6 * D});
    Tensor row_sample = upload_i32(backend(), rows, {K});
    Tensor dst = view(db, {R, D}, {W, 1}, c0), gate = view(a, {S, D}, {6 * D, 1}, 2 * D);
    DD_RUN_OP(dd_scatter_add_rows(dst.get(), index.get(), src.get(), gate.get(), row_sample.get()));

    const auto dall = download(db.get());
    std::vector<bool> inside(dall.size(), false);
    for (int64_t r = 0; r < R; ++r)
        for (int64_t c = c0; c < c0 + D; ++c) inside[r * W + c] = true;
    EXPECT_TRUE(UntouchedOutside(dall, dbefore, inside));
    const auto want = ddref::scatter_add_rows(column_slice(dbefore, R, W, c0, D), idx, ss,
                                              column_slice(ada, S, 6 * D, 2 * D, D), rows, D);
    EXPECT_TRUE(AllClose(column_slice(dall, R, W, c0, D), want, kScatter));
}

// Most indices hit one row. Width 1201 spans several 256-column blocks (the CPU backend's unit of
// parallelism, with a ragged last one) and K * width passes its threading threshold.
TEST_P(RowsTest, ScatterAddRepeatedIndicesWithoutGate) {
    const int64_t Wd = 1201;
    const auto dbefore = rng.uniform(R * Wd, -1, 1), ss = rng.uniform(K * Wd, -1, 1);
    auto idx = rng.indices(K, R);
    for (int64_t i = 0; i < K; i += 3) idx[i] = 17;
    Tensor dst = upload_f32(backend(), dbefore, {R, Wd}), index = upload_i32(backend(), idx, {K});
    Tensor src = upload_f32(backend(), ss, {K, Wd});
    DD_RUN_OP(dd_scatter_add_rows(dst.get(), index.get(), src.get(), nullptr, nullptr));
    EXPECT_TRUE(AllClose(download(dst.get()), ddref::scatter_add_rows(dbefore, idx, ss, {}, {}, Wd), kScatter));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(RowsTest);

}  // namespace
