// The DiT embedding-path ops against the reference: patchify / unpatchify (with row-strided token
// tensors), sinusoidal timestep features, and the broadcast add of positional embeddings.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// Permutations copy floats: bit exact.
constexpr Tolerance kExact{0, 0, 0};

struct PatchCase {
    int64_t N, C, H, W, p;
};
// Non-square grids (so a swapped gh/gw shows), odd channel counts, p = 1, 2, 3.
constexpr PatchCase kPatchCases[] = {{2, 3, 10, 6, 2}, {1, 4, 9, 12, 3}, {2, 5, 3, 7, 1}};

class LayoutOpsTest : public OpTest {};

// out is the first C*p*p columns of a wider [N, T, C*p*p + 5] tensor; the rest must stay untouched.
TEST_P(LayoutOpsTest, PatchifyIntoRowStridedTokens) {
    for (const auto& c : kPatchCases) {
        SCOPED_TRACE(testing::Message() << "N,C,H,W,p = " << c.N << "," << c.C << "," << c.H << "," << c.W << ","
                                        << c.p);
        const int64_t T = (c.H / c.p) * (c.W / c.p), row = c.C * c.p * c.p, wide = row + 5;
        const auto xs = rng.uniform(c.N * c.C * c.H * c.W, -1, 1), before = rng.uniform(c.N * T * wide, -1, 1);
        Tensor x = upload_f32(backend(), xs, {c.N, c.C, c.H, c.W}), ob = upload_f32(backend(), before, {c.N, T, wide});
        Tensor out = view(ob, {c.N, T, row}, {T * wide, wide, 1}, 0);
        DD_RUN_OP(dd_patchify(x.get(), (int)c.p, out.get()));
        const auto all = download(ob.get());
        std::vector<bool> inside(all.size(), false);
        for (int64_t r = 0; r < c.N * T; ++r)
            for (int64_t i = 0; i < row; ++i) inside[r * wide + i] = true;
        EXPECT_TRUE(UntouchedOutside(all, before, inside));
        EXPECT_TRUE(AllClose(column_slice(all, c.N * T, wide, 0, row), ddref::patchify(xs, c.N, c.C, c.H, c.W, c.p),
                             kExact));
    }
}

// tokens are the first p*p*Co columns of the final layer's [N, T, 2*p*p*Co] output (the learned-sigma
// half is dropped), as DiT's unpatchify sees them.
TEST_P(LayoutOpsTest, UnpatchifyFromRowStridedTokens) {
    for (const auto& c : kPatchCases) {
        SCOPED_TRACE(testing::Message() << "N,Co,H,W,p = " << c.N << "," << c.C << "," << c.H << "," << c.W << ","
                                        << c.p);
        const int64_t T = (c.H / c.p) * (c.W / c.p), row = c.C * c.p * c.p;
        const auto ts = rng.uniform(c.N * T * 2 * row, -1, 1);
        Tensor tb = upload_f32(backend(), ts, {c.N, T, 2 * row});
        Tensor out = new_tensor(backend(), DD_F32, {c.N, c.C, c.H, c.W});
        Tensor tokens = view(tb, {c.N, T, row}, {T * 2 * row, 2 * row, 1}, 0);
        DD_RUN_OP(dd_unpatchify(tokens.get(), (int)c.p, out.get()));
        EXPECT_TRUE(AllClose(download(out.get()),
                             ddref::unpatchify(column_slice(ts, c.N * T, 2 * row, 0, row), c.N, c.C, c.H, c.W, c.p),
                             kExact));
    }
}

// Per element: fp32 exponent, frequency and t*f each round once (relative 2^-24 each, the exponent's
// scaled by its size), so cos/sin are off by at most 3 * 2^-24 * |t f| (1 + |exponent|) plus their own
// rounding; 1e-6 per unit of that magnitude and 1e-6 absolute bound both.
constexpr Tolerance kTimestep{0, 1e-6, 1e-6};

TEST_P(LayoutOpsTest, TimestepEmbeddingEvenAndOddDim) {
    auto ts = rng.uniform(6, 0, 1000);
    ts[0] = 0.f, ts[1] = 1.f, ts[2] = 999.f;
    Tensor t = upload_f32(backend(), ts, {6});
    for (int64_t dim : {256, 257}) {
        SCOPED_TRACE(testing::Message() << "dim " << dim);
        Tensor out = upload_f32(backend(), rng.uniform(6 * dim, -1, 1), {6, dim});
        DD_RUN_OP(dd_timestep_embedding(t.get(), 10000.f, out.get()));
        EXPECT_TRUE(AllClose(download(out.get()), ddref::timestep_embedding(ts, dim, 10000.0), kTimestep));
    }
}

// y[n] += b with b the second half of every row of an [R, 2D] tensor. One rounding per element:
// within 2^-24 (|y| + |b|).
TEST_P(LayoutOpsTest, AddBroadcastOfRowStridedB) {
    const int64_t N = 3, R = 37, D = 72;
    const auto ys = rng.uniform(N * R * D, -2, 2), bs = rng.uniform(R * 2 * D, -2, 2);
    Tensor y = upload_f32(backend(), ys, {N, R, D}), bb = upload_f32(backend(), bs, {R, 2 * D});
    Tensor b = view(bb, {R, D}, {2 * D, 1}, D);
    DD_RUN_OP(dd_add_broadcast(y.get(), b.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::add_broadcast(ys, column_slice(bs, R, 2 * D, D, D), N, R * D),
                         Tolerance{1e-6, 1e-6, 0}));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(LayoutOpsTest);

}  // namespace
