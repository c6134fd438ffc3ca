// bf16 activations into and out of the linears (dd_linear, dd_linear_gelu, dd_linear_gated_residual) in the bf16
// GEMM precision, against the double reference on the bf16 inputs; refused with a typed error in the other
// precisions and on backends whose linears take f32 only.
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// Rounding the fp32 result to bf16 (nearest even) moves it by at most half a bf16 ulp: 2^-8 of its magnitude (the
// unit roundoff of 8 significant bits), and that magnitude is within the product's own error of the reference (the
// 1% covers it).
const double kBf16Out = 1.01 * std::ldexp(1.0, -8);

class LinearBf16IoTest : public OpTest {
protected:
    bool bf16() const { return gemm_precision(backend()) == DD_PRECISION_BF16; }

    // A bf16 tensor of random values and the values it holds (exactly representable).
    Tensor bf16_tensor(const Shape& shape, std::vector<float>* held) {
        Tensor h = converted(backend(), upload_f32(backend(), rng.uniform(numel(shape), -1, 1), shape), DD_BF16);
        *held = read_f32(h);
        return h;
    }
    std::vector<float> read_f32(const Tensor& t) { return download(converted(backend(), t, DD_F32).get()); }
    // The product's bound (test_linear.cpp): x is exact, w rounded to bf16; counting both as rounded is an upper bound.
    Tolerance gemm(int64_t K) const { return rounded_operand_gemm(bf16_unit_roundoff(), K, {1e-5, 1e-5, 0}); }

    // Skips where this backend's linears take f32 activations only (after checking the refusal names the tensor).
    bool backend_refuses(dd_status s, const char* tensor) {
        if (s != DD_ERR_UNSUPPORTED) return false;
        EXPECT_NE(std::string(dd_last_error()).find(tensor), std::string::npos) << dd_last_error();
        return true;
    }
};

TEST_P(LinearBf16IoTest, LinearFromBf16IntoBf16) {
    if (!bf16()) GTEST_SKIP() << "bf16 activations need the bf16 GEMM precision (see RefusedOutsideBf16)";
    const int64_t N = 3, T = 37, K = 96, D = 72;
    std::vector<float> xs;
    Tensor x = bf16_tensor({N, T, K}, &xs);
    auto ws = rng.uniform(D * K, -1, 1), bs = rng.uniform(D, -1, 1);
    Tensor w = upload_f32(backend(), ws, {D, K}), b = upload_f32(backend(), bs, {D});
    Tensor y16 = new_tensor(backend(), DD_BF16, {N, T, D}), y32 = new_tensor(backend(), DD_F32, {N, T, D});
    const dd_status s = dd_linear(x.get(), w.get(), b.get(), y16.get());
    if (backend_refuses(s, "'x'")) GTEST_SKIP() << backend().name << " takes f32 activations: " << dd_last_error();
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y32.get()));
    const ddref::Expected want = ddref::linear(xs, ws, bs, N * T, D, K);
    const Tolerance g = gemm(K);
    EXPECT_TRUE(AllClose(download(y32.get()), want, g)) << "bf16 x, f32 y";
    EXPECT_TRUE(AllClose(read_f32(y16), want, {g.rtol + kBf16Out, 1.01 * g.per_magnitude, 0})) << "bf16 x, bf16 y";
}

// A long K (DiT's fc2 is K = 4 D; the CPU runs K >= 2048 in chunks accumulated in an f32 y): K = 2500 (chunks of
// 1280 and 1220), f32 y with bias, and the gated residual (whose product accumulates chunk by chunk too).
// K = 2500 runs in three K-chunks on the CPU, K = 1700 in two (gemm.cpp k_chunk), accumulated in the f32 y.
TEST_P(LinearBf16IoTest, LongReductionFromBf16) {
    if (!bf16()) GTEST_SKIP() << "bf16 activations need the bf16 GEMM precision (see RefusedOutsideBf16)";
    for (const int64_t K : {int64_t(2500), int64_t(1700)}) {
        SCOPED_TRACE("K = " + std::to_string(K));
        const int64_t N = 2, T = 33, D = 40;
        std::vector<float> xs;
        Tensor x = bf16_tensor({N, T, K}, &xs);
        auto ws = rng.uniform(D * K, -1, 1), bs = rng.uniform(D, -1, 1), gs = rng.uniform(N * D, -2, 2);
        auto hs = rng.uniform(N * T * D, -1, 1);
        Tensor w = upload_f32(backend(), ws, {D, K}), b = upload_f32(backend(), bs, {D}), gate = upload_f32(backend(), gs, {N, D});
        Tensor y = new_tensor(backend(), DD_F32, {N, T, D}), h = upload_f32(backend(), hs, {N, T, D});
        const dd_status s = dd_linear(x.get(), w.get(), b.get(), y.get());
        if (backend_refuses(s, "'x'")) GTEST_SKIP() << backend().name << " takes f32 activations: " << dd_last_error();
        ASSERT_EQ(s, DD_OK) << dd_last_error();
        const ddref::Expected want = ddref::linear(xs, ws, bs, N * T, D, K);
        const Tolerance g = gemm(K);
        EXPECT_TRUE(AllClose(download(y.get()), want, g)) << "linear";
        DD_RUN_OP(dd_linear_gated_residual(x.get(), w.get(), b.get(), gate.get(), h.get()));
        EXPECT_TRUE(AllClose(download(h.get()), gated_residual(hs, gs, want, T, D, g), {0, g.per_magnitude, 0}))
            << "gated residual";
    }
}

// On the CPU a bf16 dd_linear_gelu is dd_linear into bf16 then dd_gelu_tanh on those values, bit for bit (so a forward
// that fuses them equals one that does not, as in fp32).
TEST_P(LinearBf16IoTest, CpuGeluIntoBf16IsTheLinearThenTheGelu) {
    if (!bf16() || backend().device_type != DD_DEVICE_CPU) GTEST_SKIP() << "the CPU in bf16";
    const int64_t N = 2, T = 45, K = 64, F = 200;
    std::vector<float> xs;
    Tensor x = bf16_tensor({N, T, K}, &xs);
    Tensor w = upload_f32(backend(), rng.uniform(F * K, -1, 1), {F, K}), b = upload_f32(backend(), rng.uniform(F, -1, 1), {F});
    Tensor fused = new_tensor(backend(), DD_BF16, {N, T, F}), parts = new_tensor(backend(), DD_BF16, {N, T, F});
    DD_RUN_OP(dd_linear_gelu(x.get(), w.get(), b.get(), fused.get()));
    DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), parts.get()));
    DD_RUN_OP(dd_gelu_tanh(parts.get(), parts.get()));
    EXPECT_EQ(read_f32(fused), read_f32(parts));
}

TEST_P(LinearBf16IoTest, GeluIntoBf16ThenGatedResidualFromIt) {
    if (!bf16()) GTEST_SKIP() << "bf16 activations need the bf16 GEMM precision (see RefusedOutsideBf16)";
    // one DiT MLP: hid = gelu(u W1^T + b1) in bf16, h += gate * (hid W2^T + b2); T large enough for the chunked
    // product (more rows than one chunk of the CPU's bf16 GELU path)
    const int64_t N = 2, T = 300, D = 64, F = 4 * D;
    auto us = rng.uniform(N * T * D, -1, 1), w1 = rng.uniform(F * D, -1, 1), b1 = rng.uniform(F, -1, 1);
    auto w2 = rng.uniform(D * F, -0.2, 0.2), b2 = rng.uniform(D, -1, 1), gs = rng.uniform(N * D, -2, 2);
    auto hs = rng.uniform(N * T * D, -1, 1);
    Tensor u = upload_f32(backend(), us, {N, T, D}), W1 = upload_f32(backend(), w1, {F, D});
    Tensor B1 = upload_f32(backend(), b1, {F}), W2 = upload_f32(backend(), w2, {D, F});
    Tensor B2 = upload_f32(backend(), b2, {D}), gate = upload_f32(backend(), gs, {N, D});
    Tensor h = upload_f32(backend(), hs, {N, T, D}), hid = new_tensor(backend(), DD_BF16, {N, T, F});
    const dd_status s = dd_linear_gelu(u.get(), W1.get(), B1.get(), hid.get());
    if (backend_refuses(s, "'y'")) GTEST_SKIP() << backend().name << " takes f32 activations: " << dd_last_error();
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    // gelu(a): a's error through |gelu'| <= 1.13 (on the CPU with a's rounding to bf16: <= 1.13 u |a| <= u of the
    // magnitude 1.13 |a|'s bound), the fp32 GELU 1e-5 relative, then the bf16 rounding
    const ddref::Expected a = ddref::linear(us, w1, b1, N * T, F, D);
    ddref::Expected want = ddref::sized(a.value.size());
    for (size_t i = 0; i < a.value.size(); ++i) {
        const double v = a.value[i];
        want.value[i] = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        want.magnitude[i] = 1.13 * a.magnitude[i];
    }
    const Tolerance g1 = gemm(D);
    const std::vector<float> hid_got = read_f32(hid);
    EXPECT_TRUE(AllClose(hid_got, want, {1e-5 + kBf16Out, 1.01 * g1.per_magnitude + kBf16Out, 1e-12}))
        << "gelu into bf16";
    // the second product from the bf16 hidden (exact inputs: the reference takes what hid holds)
    DD_RUN_OP(dd_linear_gated_residual(hid.get(), W2.get(), B2.get(), gate.get(), h.get()));
    const ddref::Expected r = ddref::linear(hid_got, w2, b2, N * T, D, F);
    const Tolerance g2 = gemm(F);
    EXPECT_TRUE(AllClose(download(h.get()), gated_residual(hs, gs, r, T, D, g2), {0, g2.per_magnitude, 0}))
        << "gated residual from bf16";
}

TEST_P(LinearBf16IoTest, RefusedOutsideBf16AndForTheResidualStream) {
    Tensor x16 = new_tensor(backend(), DD_BF16, {2, 5, 8}), x = new_tensor(backend(), DD_F32, {2, 5, 8});
    Tensor w = new_tensor(backend(), DD_F32, {6, 8}), y = new_tensor(backend(), DD_F32, {2, 5, 6});
    Tensor h16 = new_tensor(backend(), DD_BF16, {2, 5, 6});
    // h (the residual stream) stays f32 everywhere
    EXPECT_TRUE(FailsWith(dd_linear_gated_residual(x.get(), w.get(), nullptr, nullptr, h16.get()), DD_ERR_DTYPE,
                          {"dd_linear_gated_residual", "'h'", "bf16"}));
    if (bf16()) return;
    const dd_status s = dd_linear(x16.get(), w.get(), nullptr, y.get());
    if (s == DD_ERR_UNSUPPORTED) {  // a backend with f32-only linears refuses in every precision
        EXPECT_NE(std::string(dd_last_error()).find("'x'"), std::string::npos) << dd_last_error();
        return;
    }
    EXPECT_EQ(s, DD_ERR_DTYPE) << dd_last_error();
    const std::string msg = dd_last_error();
    for (const char* part : {"dd_linear", "'x'", "bf16 GEMM precision"})
        EXPECT_NE(msg.find(part), std::string::npos) << msg;
    EXPECT_TRUE(FailsWith(dd_linear_gelu(x.get(), w.get(), nullptr, h16.get()), DD_ERR_DTYPE,
                          {"dd_linear_gelu", "'y'", "bf16 GEMM precision"}));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(LinearBf16IoTest);

}  // namespace
