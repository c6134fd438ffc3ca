// dd_gated_residual_add against the double reference: gate as a chunk view of the adaLN tensor, and
// no gate (plain residual add).
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t N = 3, T = 37, D = 72;

// h + g * x is at most two roundings (one with FMA): within 2 * 2^-24 = 1.2e-7 of the exact value
// relative to |h| + |g x|; 1e-6 leaves room without hiding a wrong gate or a skipped element.
constexpr Tolerance kAxpy{1e-6, 1e-6, 0};

class GatedResidualAddTest : public OpTest {};

// gate_msa is chunk 2 of the [N,6D] adaLN output: an [N,D] view at row stride 6D.
TEST_P(GatedResidualAddTest, GateAsChunkViewOfAda) {
    auto hs = rng.uniform(N * T * D, -2, 2), xs = rng.uniform(N * T * D, -2, 2), ada = rng.uniform(N * 6 * D, -1, 1);
    Tensor h = upload_f32(backend(), hs, {N, T, D}), x = upload_f32(backend(), xs, {N, T, D});
    Tensor a = upload_f32(backend(), ada, {N, 6 * D});
    Tensor gate = view(a, {N, D}, {6 * D, 1}, 2 * D);
    DD_RUN_OP(dd_gated_residual_add(h.get(), gate.get(), x.get()));
    const auto want = ddref::gated_residual_add(hs, column_slice(ada, N, 6 * D, 2 * D, D), xs, N, T, D);
    EXPECT_TRUE(AllClose(download(h.get()), want, kAxpy));
}

TEST_P(GatedResidualAddTest, NullGateIsPlainResidualAdd) {
    auto hs = rng.uniform(N * T * D, -2, 2), xs = rng.uniform(N * T * D, -2, 2);
    Tensor h = upload_f32(backend(), hs, {N, T, D}), x = upload_f32(backend(), xs, {N, T, D});
    DD_RUN_OP(dd_gated_residual_add(h.get(), nullptr, x.get()));
    EXPECT_TRUE(AllClose(download(h.get()), ddref::gated_residual_add(hs, {}, xs, N, T, D), kAxpy));
}

// x is a token-strided view (every other token of [N,2T,D]).
TEST_P(GatedResidualAddTest, TokenStridedX) {
    auto hs = rng.uniform(N * T * D, -2, 2), xs = rng.uniform(N * 2 * T * D, -2, 2), gs = rng.uniform(N * D, -1, 1);
    Tensor h = upload_f32(backend(), hs, {N, T, D}), xb = upload_f32(backend(), xs, {N, 2 * T, D});
    Tensor gate = upload_f32(backend(), gs, {N, D});
    Tensor x = view(xb, {N, T, D}, {2 * T * D, 2 * D, 1}, D);
    DD_RUN_OP(dd_gated_residual_add(h.get(), gate.get(), x.get()));
    const auto odd_tokens = column_slice(xs, N * T, 2 * D, D, D);  // token 2t+1 = second half of row pair t
    EXPECT_TRUE(AllClose(download(h.get()), ddref::gated_residual_add(hs, gs, odd_tokens, N, T, D), kAxpy));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(GatedResidualAddTest);

}  // namespace
