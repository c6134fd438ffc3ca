// dd_linear against the double reference: 2-D and 3-D x, with and without bias, and strided views.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// Sizes off every SIMD/BLAS block boundary.
constexpr int64_t M = 37, N = 71, K = 129;

// A dot product of K fp32 terms plus the bias is within gamma_{K+1} = (K+1) * 2^-24 = 7.7e-6 of the
// exact sum relative to the sum of |terms| (any summation order, FMA or not); 1e-5 bounds that for
// K < 167. The inputs are the exact floats the reference reads, so nothing else contributes.
constexpr Tolerance kGemm{1e-5, 1e-5, 0};

// On a CUDA device in TF32 / BF16 (and the CPU in BF16) the operands are rounded first: the bound of compare.h's
// rounded_operand_gemm for K terms (tf32, K = 129: 9.9e-4 of sum|x w|; bf16: 7.8e-3); fp32: kGemm.
class LinearTest : public OpTest {
protected:
    Tolerance gemm(int64_t k = K) const {
        const int p = gemm_precision(backend());
        const double u = p == DD_PRECISION_TF32 ? tf32_unit_roundoff() : p == DD_PRECISION_BF16 ? bf16_unit_roundoff() : 0;
        return rounded_operand_gemm(u, k, kGemm);
    }
};

TEST_P(LinearTest, TwoDimXWithBias) {
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Tensor x = upload_f32(backend(), xs, {M, K}), w = upload_f32(backend(), ws, {N, K});
    Tensor b = upload_f32(backend(), bs, {N}), y = new_tensor(backend(), DD_F32, {M, N});
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, bs, M, N, K), gemm()));
}

TEST_P(LinearTest, ThreeDimXWithoutBias) {
    const int64_t B = 2;
    auto xs = rng.uniform(B * M * K, -1, 1), ws = rng.uniform(N * K, -1, 1);
    Tensor x = upload_f32(backend(), xs, {B, M, K}), w = upload_f32(backend(), ws, {N, K});
    Tensor y = new_tensor(backend(), DD_F32, {B, M, N});
    DD_RUN_OP(dd_linear(x.get(), w.get(), nullptr, y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, {}, B * M, N, K), gemm()));
}

TEST_P(LinearTest, VectorX) {
    auto xs = rng.uniform(K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Tensor x = upload_f32(backend(), xs, {K}), w = upload_f32(backend(), ws, {N, K});
    Tensor b = upload_f32(backend(), bs, {N}), y = new_tensor(backend(), DD_F32, {N});
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, bs, 1, N, K), gemm()));
}

// x is the middle third of every row of a [2,37,3K] tensor (rows at stride 3K) and y is written into
// columns [5, 5+N) of a wider [2,37,N+9] tensor, whose other columns must stay untouched.
TEST_P(LinearTest, RowStridedViewsOfXAndY) {
    const int64_t B = 2, XW = 3 * K, YW = N + 9, y0 = 5;
    auto base = rng.uniform(B * M * XW, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    auto ybefore = rng.uniform(B * M * YW, -1, 1);
    Tensor xb = upload_f32(backend(), base, {B, M, XW}), w = upload_f32(backend(), ws, {N, K});
    Tensor b = upload_f32(backend(), bs, {N}), yb = upload_f32(backend(), ybefore, {B, M, YW});
    Tensor x = view(xb, {B, M, K}, {M * XW, XW, 1}, K);
    Tensor y = view(yb, {B, M, N}, {M * YW, YW, 1}, y0);
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y.get()));

    const auto yall = download(yb.get());
    std::vector<bool> inside(yall.size(), false);
    for (int64_t r = 0; r < B * M; ++r)
        for (int64_t c = y0; c < y0 + N; ++c) inside[r * YW + c] = true;
    EXPECT_TRUE(UntouchedOutside(yall, ybefore, inside));
    EXPECT_TRUE(AllClose(column_slice(yall, B * M, YW, y0, N),
                         ddref::linear(column_slice(base, B * M, XW, K, K), ws, bs, B * M, N, K), gemm()));
}

// One output column (DyDiT's token router's second layer, DiffCR's router): rows of x at a stride, y written at a
// stride into column 3 of a wider tensor; 37 and 2051 rows, with and without bias.
TEST_P(LinearTest, SingleOutputColumnFromStridedRows) {
    for (int64_t rows : {int64_t(37), int64_t(2051)})
        for (bool with_bias : {true, false}) {
            const int64_t XW = K + 7, YW = 5;
            auto base = rng.uniform(rows * XW, -1, 1), ws = rng.uniform(K, -1, 1), bs = rng.uniform(1, -1, 1);
            auto ybefore = rng.uniform(rows * YW, -1, 1);
            Tensor xb = upload_f32(backend(), base, {rows, XW}), w = upload_f32(backend(), ws, {1, K});
            Tensor b = upload_f32(backend(), bs, {1}), yb = upload_f32(backend(), ybefore, {rows, YW});
            Tensor x = view(xb, {rows, K}, {XW, 1}, 2), y = view(yb, {rows, 1}, {YW, 1}, 3);
            DD_RUN_OP(dd_linear(x.get(), w.get(), with_bias ? b.get() : nullptr, y.get()));
            const auto yall = download(yb.get());
            std::vector<bool> inside(yall.size(), false);
            for (int64_t r = 0; r < rows; ++r) inside[r * YW + 3] = true;
            EXPECT_TRUE(UntouchedOutside(yall, ybefore, inside)) << rows << " rows";
            EXPECT_TRUE(AllClose(column_slice(yall, rows, YW, 3, 1),
                                 ddref::linear(column_slice(base, rows, XW, 2, K), ws,
                                               with_bias ? bs : std::vector<float>{}, rows, 1, K),
                                 gemm()))
                << rows << " rows, bias " << with_bias;
        }
}

// K = 0: every dot product is empty, so y is the bias (or zeros), exactly.
TEST_P(LinearTest, EmptyReductionGivesBias) {
    auto bs = rng.uniform(N, -1, 1);
    Tensor x = new_tensor(backend(), DD_F32, {M, 0}), w = new_tensor(backend(), DD_F32, {N, 0});
    Tensor b = upload_f32(backend(), bs, {N}), y = upload_f32(backend(), rng.uniform(M * N, -1, 1), {M, N});
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear({}, {}, bs, M, N, 0), Tolerance{}));
    DD_RUN_OP(dd_linear(x.get(), w.get(), nullptr, y.get()));
    EXPECT_EQ(download(y.get()), std::vector<float>(M * N, 0.f));
}

// x = the first token of each batch entry of a [2,T,K] tensor: an [2,1,K] view whose two rows lie T*K
// apart (the size-1 token dim's stride K says nothing about where rows are).
TEST_P(LinearTest, FirstTokenOfEachBatchEntry) {
    const int64_t B = 2, T = 37;
    auto base = rng.uniform(B * T * K, -1, 1), ws = rng.uniform(N * K, -1, 1);
    Tensor xb = upload_f32(backend(), base, {B, T, K}), w = upload_f32(backend(), ws, {N, K});
    Tensor x = view(xb, {B, 1, K}, {T * K, K, 1}, 0), y = new_tensor(backend(), DD_F32, {B, 1, N});
    DD_RUN_OP(dd_linear(x.get(), w.get(), nullptr, y.get()));
    std::vector<float> first_tokens(base.begin(), base.begin() + K);
    first_tokens.insert(first_tokens.end(), base.begin() + T * K, base.begin() + T * K + K);
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(first_tokens, ws, {}, B, N, K), gemm()));
}

// Rows at stride 0 (one input row broadcast to M rows) are "rows at a uniform stride" as the header
// puts it: the op must either compute M equal rows or refuse the view, never read other memory.
TEST_P(LinearTest, ZeroRowStrideViewOfX) {
    const int64_t R = 5;
    auto base = rng.uniform(R * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Tensor xb = upload_f32(backend(), base, {R, K}), w = upload_f32(backend(), ws, {N, K});
    Tensor b = upload_f32(backend(), bs, {N}), y = new_tensor(backend(), DD_F32, {R, N});
    Tensor x = view(xb, {R, K}, {0, 1}, 0);
    const dd_status s = dd_linear(x.get(), w.get(), b.get(), y.get());
    // A kernel limit (DD_ERR_UNSUPPORTED) is not one of the two allowed answers: it fails below.
    if (s != DD_OK) {
        EXPECT_EQ(s, DD_ERR_INVALID_ARGUMENT) << dd_last_error();
        return;
    }
    std::vector<float> broadcast;
    for (int64_t r = 0; r < R; ++r) broadcast.insert(broadcast.end(), base.begin(), base.begin() + K);
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(broadcast, ws, bs, R, N, K), gemm()));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(LinearTest);

}  // namespace
