// bf16 activations through DyDiT's width-sliced linears (dd_linear_out_blocks x and y, dd_linear_in_blocks x) and
// dd_gelu_tanh on bf16 values, in the bf16 GEMM precision, against the double references on the bf16 values; refused
// with typed errors in the other precisions and on backends whose sliced ops take f32 only.
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "reference_routing.h"
#include "test_support.h"

namespace {

using namespace ddtest;
using ddref::Blocks;

constexpr int64_t M = 37, N = 71, K = 129;
// Out of order, empty, adjacent and repeated rows; disjoint columns (test_sliced_ops.cpp's shapes of trouble).
const Blocks kOutBlocks = {40, 13, 0, 7, 7, 0, 7, 9, 70, 1, 45, 5};
const Blocks kInBlocks = {100, 28, 3, 0, 0, 17, 17, 30, 128, 1};
// A bf16 result is the fp32 one rounded once: 2^-8 of its magnitude more (1% for the value's own error).
const double kBf16Out = 1.01 * std::ldexp(1.0, -8);

class SlicedBf16IoTest : public OpTest {
protected:
    bool bf16() const { return gemm_precision(backend()) == DD_PRECISION_BF16; }
    bool takes_bf16() const { return backend().device_type == DD_DEVICE_CPU; }
    Tensor bf16_tensor(const Shape& shape, std::vector<float>* held) {
        Tensor h = converted(backend(), upload_f32(backend(), rng.uniform(numel(shape), -1, 1), shape), DD_BF16);
        *held = download(converted(backend(), h, DD_F32).get());
        return h;
    }
    std::vector<float> read_f32(const Tensor& t) { return download(converted(backend(), t, DD_F32).get()); }
    // A bf16 x [M, x_cols] and a weight w [N, K] with its bias, and the values they hold.
    struct Operands {
        std::vector<float> xs, ws, bs;
        Tensor x, w, b;
    };
    Operands operands(int64_t x_cols) {
        Operands o;
        o.x = bf16_tensor({M, x_cols}, &o.xs);
        o.ws = rng.uniform(N * K, -1, 1), o.bs = rng.uniform(N, -1, 1);
        o.w = upload_f32(backend(), o.ws, {N, K}), o.b = upload_f32(backend(), o.bs, {N});
        return o;
    }
    // The sliced products' bound (test_sliced_ops.cpp): K + 8 terms, operands rounded to bf16.
    Tolerance gemm() const { return rounded_operand_gemm(bf16_unit_roundoff(), K + 8, {0, 1e-5, 0}); }
    // True (after checking the error) where this backend or precision refuses bf16 activations.
    bool refused(dd_status s, const char* op, const char* tensor) {
        if (!takes_bf16()) {
            EXPECT_TRUE(FailsWith(s, DD_ERR_UNSUPPORTED, {op, tensor, "bf16", "f32"}));
            return true;
        }
        if (bf16()) return false;
        EXPECT_TRUE(FailsWith(s, DD_ERR_DTYPE, {op, tensor, "bf16 GEMM precision"}));
        return true;
    }
};

TEST_P(SlicedBf16IoTest, OutBlocksFromBf16IntoBf16AndF32) {
    const int64_t total = ddref::block_total(kOutBlocks);
    const Operands o = operands(K);
    const auto &xs = o.xs, &ws = o.ws, &bs = o.bs;
    const Tensor &x = o.x, &w = o.w, &b = o.b;
    Tensor y16 = new_tensor(backend(), DD_BF16, {M, total}), y32 = new_tensor(backend(), DD_F32, {M, total});
    const int nb = (int)kOutBlocks.size() / 2;
    if (refused(dd_linear_out_blocks(x.get(), w.get(), b.get(), kOutBlocks.data(), nb, y16.get()), "dd_linear_out_blocks",
                "'x'"))
        return;
    DD_RUN_OP(dd_linear_out_blocks(x.get(), w.get(), b.get(), kOutBlocks.data(), nb, y32.get()));
    const ddref::Expected want = ddref::linear_out_blocks(xs, ws, bs, kOutBlocks, M, K);
    const Tolerance g = gemm();
    EXPECT_TRUE(AllClose(download(y32.get()), want, g)) << "bf16 x, f32 y";
    EXPECT_TRUE(AllClose(read_f32(y16), want, {g.rtol + kBf16Out, 1.01 * g.per_magnitude, 0})) << "bf16 x, bf16 y";
    // f32 x into a bf16 y: x rounded to bf16 by the op, so the same values from the same bf16 inputs
    Tensor x32 = upload_f32(backend(), xs, {M, K}), z16 = new_tensor(backend(), DD_BF16, {M, total});
    DD_RUN_OP(dd_linear_out_blocks(x32.get(), w.get(), b.get(), kOutBlocks.data(), nb, z16.get()));
    EXPECT_EQ(read_f32(z16), read_f32(y16)) << "f32 x holding bf16 values";
}

TEST_P(SlicedBf16IoTest, InBlocksFromBf16) {
    const int64_t total = ddref::block_total(kInBlocks);
    const Operands o = operands(total);
    const auto &xs = o.xs, &ws = o.ws, &bs = o.bs;
    const Tensor &x = o.x, &w = o.w, &b = o.b;
    Tensor y = upload_f32(backend(), rng.uniform(M * N, -1, 1), {M, N});
    const int nb = (int)kInBlocks.size() / 2;
    if (refused(dd_linear_in_blocks(x.get(), w.get(), b.get(), kInBlocks.data(), nb, y.get()), "dd_linear_in_blocks",
                "'x'"))
        return;
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear_in_blocks(xs, ws, bs, kInBlocks, M, N, K), gemm()));
    // its y accumulates block by block: f32 only
    Tensor y16 = new_tensor(backend(), DD_BF16, {M, N});
    EXPECT_TRUE(FailsWith(dd_linear_in_blocks(x.get(), w.get(), b.get(), kInBlocks.data(), nb, y16.get()), DD_ERR_DTYPE,
                          {"dd_linear_in_blocks", "'y'"}));
}

// gelu_tanh of bf16 values over [-6, 6], out of place and in place: within 1.2e-4 relative of the double GELU before
// the one rounding to bf16 (cpu_kernels.h); 4099 values: a partial vector and a partial chunk of the threaded loop.
TEST_P(SlicedBf16IoTest, GeluOnBf16Values) {
    const int64_t n = 4099;
    Tensor x = converted(backend(), upload_f32(backend(), rng.uniform(n, -6, 6), {n}), DD_BF16);
    Tensor y = new_tensor(backend(), DD_BF16, {n});
    if (refused(dd_gelu_tanh(x.get(), y.get()), "dd_gelu_tanh", "'x'")) return;
    const std::vector<float> xs = read_f32(x);
    ddref::Expected want = ddref::gelu_tanh(xs);
    for (size_t i = 0; i < xs.size(); ++i) want.magnitude[i] = std::fabs(want.value[i]);
    EXPECT_TRUE(AllClose(read_f32(y), want, {1.2e-4 + kBf16Out, 0, 0})) << "out of place";
    DD_RUN_OP(dd_gelu_tanh(x.get(), x.get()));
    EXPECT_EQ(read_f32(x), read_f32(y)) << "in place equals out of place";
    Tensor y32 = new_tensor(backend(), DD_F32, {n});
    EXPECT_TRUE(FailsWith(dd_gelu_tanh(x.get(), y32.get()), DD_ERR_DTYPE, {"dd_gelu_tanh", "'y'", "f32", "bf16"}));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(SlicedBf16IoTest);

}  // namespace
