// dd_attention_key_mass (token caching's importance score) against the double reference, with q and k as views
// into one packed qkv tensor [N,T,3,H,Dh] as the DiT writes it; every row of the result sums to T (each query's
// probabilities sum to 1); dd_attention_with_key_mass equals dd_attention and dd_attention_key_mass bit for bit
// (on the CPU: run in fp32, the fused op's arithmetic in every precision); bad shapes are refused naming the tensor.
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t N = 2, T = 37, H = 3, Dh = 72, D = H * Dh;

// The scores' fp32 error (gamma_Dh of sum|q k|, times scale, from the score and the row maximum) is the
// reference's magnitude term, as for dd_attention (test_attention.cpp); exp, the row sums and the T-term column
// sums add well under 1e-5 relative. On CUDA in TF32/BF16 the Q K^T GEMM rounds its operands to u (2^-11 / 2^-8):
// each score moves by delta <= scale * (2u + u^2 + (Dh+1) 2^-23) * sum|q k| and each probability by a factor
// within e^{+-2 delta}, i.e. by <= 2 delta e^{2 delta} p: the magnitude term with (2u + ...) e^{2 delta}. Inputs
// in [-2, 2) bound scale * sum|q k| by 4 sqrt(Dh) (scale = 1/sqrt(Dh)): delta <= 0.27 for bf16, 0.07 for tf32.
Tolerance mass_tolerance(const Backend& b, int64_t dh) {
    constexpr Tolerance fp32{1e-5, 1e-5, 0};
    // the CPU computes the scores in fp32 in every precision; CUDA through its GEMM precision
    if (b.device_type == DD_DEVICE_CPU || b.precision == DD_PRECISION_FP32) return fp32;
    const double u = b.precision == DD_PRECISION_BF16 ? bf16_unit_roundoff() : tf32_unit_roundoff();
    const double rel = 2 * u + u * u + (double)(dh + 1) * std::ldexp(1.0, -23);
    const double delta = 4 * std::sqrt((double)dh) * rel;
    return {fp32.rtol, fp32.per_magnitude + rel * std::exp(2 * delta), 0};
}

class AttentionKeyMassTest : public OpTest {};

TEST_P(AttentionKeyMassTest, PackedQkvViewsMatchTheReferenceAndRowsSumToT) {
    const auto packed = rng.uniform(N * T * 3 * D, -2, 2);
    const double scale = 1.0 / std::sqrt((double)Dh);
    Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {N, T});
    Tensor q = view(qkv, {N, T, H, Dh}, {T * 3 * D, 3 * D, Dh, 1}, 0);
    Tensor k = view(qkv, {N, T, H, Dh}, {T * 3 * D, 3 * D, Dh, 1}, D);
    DD_RUN_OP(dd_attention_key_mass(q.get(), k.get(), (float)scale, out.get()));
    const auto got = download(out.get());
    const auto want = ddref::attention_key_mass(column_slice(packed, N * T, 3 * D, 0, D),
                                                column_slice(packed, N * T, 3 * D, D, D), N, T, H, Dh, (float)scale);
    EXPECT_TRUE(AllClose(got, want, mass_tolerance(backend(), Dh)));
    for (int64_t n = 0; n < N; ++n) {
        double row = 0;
        for (int64_t j = 0; j < T; ++j) row += got[n * T + j];
        EXPECT_NEAR(row, (double)T, 1e-4 * T) << "sample " << n;  // fp32 sums of T * H probabilities
    }
}

// A second call on other shapes reuses the op's scratch (it only grows): results stay right after a shrink.
TEST_P(AttentionKeyMassTest, LargerThenSmallerShapes) {
    for (int64_t t : {50, 9}) {
        SCOPED_TRACE("T=" + std::to_string(t));
        const auto hq = rng.uniform(1 * t * 2 * 16, -2, 2), hk = rng.uniform(1 * t * 2 * 16, -2, 2);
        // scale 0.25 = 1/sqrt(16), as mass_tolerance assumes
        Tensor q = upload_f32(backend(), hq, {1, t, 2, 16}), k = upload_f32(backend(), hk, {1, t, 2, 16});
        Tensor out = new_tensor(backend(), DD_F32, {1, t});
        DD_RUN_OP(dd_attention_key_mass(q.get(), k.get(), 0.25f, out.get()));
        EXPECT_TRUE(AllClose(download(out.get()), ddref::attention_key_mass(hq, hk, 1, t, 2, 16, 0.25),
                             mass_tolerance(backend(), 16)));
    }
}

// The fused form: the very outputs of the two separate ops (the CPU takes the mass from the attention's own
// probabilities, in the same order, fp32 in every precision: the separate ops are run in fp32 there; elsewhere the
// ops run in turn and say so), and the reference.
TEST_P(AttentionKeyMassTest, WithAttentionEqualsTheSeparateOpsBitForBit) {
    const auto packed = rng.uniform(N * T * 3 * D, -2, 2);
    const float scale = (float)(1.0 / std::sqrt((double)Dh));
    Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh});
    const std::vector<int64_t> st = {T * 3 * D, 3 * D, Dh, 1};
    Tensor q = view(qkv, {N, T, H, Dh}, st, 0), k = view(qkv, {N, T, H, Dh}, st, D), v = view(qkv, {N, T, H, Dh}, st, 2 * D);
    Tensor out = new_tensor(backend(), DD_F32, {N, T, H, Dh}), mass = new_tensor(backend(), DD_F32, {N, T});
    Tensor out1 = new_tensor(backend(), DD_F32, {N, T, H, Dh}), mass1 = new_tensor(backend(), DD_F32, {N, T});
    int recomputed = -1;
    DD_RUN_OP(dd_attention_with_key_mass(q.get(), k.get(), v.get(), scale, out.get(), mass.get(), &recomputed));
    const bool cpu = backend().device_type == DD_DEVICE_CPU;
    EXPECT_EQ(recomputed, cpu ? 0 : 1);
    if (cpu) {
        ASSERT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32), DD_OK);
    }
    DD_RUN_OP(dd_attention(q.get(), k.get(), v.get(), scale, out1.get()));
    DD_RUN_OP(dd_attention_key_mass(q.get(), k.get(), scale, mass1.get()));
    if (cpu) {
        ASSERT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, backend().precision), DD_OK);
    }
    EXPECT_EQ(download(out.get()), download(out1.get()));
    EXPECT_EQ(download(mass.get()), download(mass1.get()));
    const auto want = ddref::attention_key_mass(column_slice(packed, N * T, 3 * D, 0, D),
                                                column_slice(packed, N * T, 3 * D, D, D), N, T, H, Dh, scale);
    EXPECT_TRUE(AllClose(download(mass.get()), want, mass_tolerance(backend(), Dh)));
}

TEST_P(AttentionKeyMassTest, WithAttentionRefusesCrossAttentionAndABadMass) {
    Tensor q = new_tensor(backend(), DD_F32, {N, T, H, Dh}), kv = new_tensor(backend(), DD_F32, {N, T + 1, H, Dh});
    Tensor out = new_tensor(backend(), DD_F32, {N, T, H, Dh}), mass = new_tensor(backend(), DD_F32, {N, T});
    Tensor mass_bad = new_tensor(backend(), DD_F32, {N, T + 1});
    EXPECT_TRUE(FailsWith(dd_attention_with_key_mass(q.get(), kv.get(), kv.get(), 0.1f, out.get(), mass.get(), nullptr),
                          DD_ERR_SHAPE, {"dd_attention_with_key_mass", "self-attention"}));
    EXPECT_TRUE(FailsWith(dd_attention_with_key_mass(q.get(), q.get(), q.get(), 0.1f, out.get(), mass_bad.get(), nullptr),
                          DD_ERR_SHAPE, {"dd_attention_with_key_mass", "'mass'"}));
    EXPECT_TRUE(FailsWith(dd_attention_with_key_mass(q.get(), q.get(), q.get(), 0.1f, out.get(), nullptr, nullptr),
                          DD_ERR_INVALID_ARGUMENT, {"'mass'"}));
}

TEST_P(AttentionKeyMassTest, BadShapesAreRefusedNamingTheTensor) {
    Tensor q = new_tensor(backend(), DD_F32, {N, T, H, Dh}), k = new_tensor(backend(), DD_F32, {N, T + 1, H, Dh});
    Tensor out = new_tensor(backend(), DD_F32, {N, T}), out_bad = new_tensor(backend(), DD_F32, {N, T - 1});
    EXPECT_TRUE(FailsWith(dd_attention_key_mass(q.get(), k.get(), 0.1f, out.get()), DD_ERR_SHAPE,
                          {"dd_attention_key_mass", "'k'"}));
    EXPECT_TRUE(FailsWith(dd_attention_key_mass(q.get(), q.get(), 0.1f, out_bad.get()), DD_ERR_SHAPE,
                          {"dd_attention_key_mass", "'out'"}));
    EXPECT_TRUE(FailsWith(dd_attention_key_mass(q.get(), q.get(), 0.f, out.get()), DD_ERR_INVALID_ARGUMENT,
                          {"scale"}));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(AttentionKeyMassTest);

}  // namespace
