// dd_attention against the double reference, with q, k, v as views into one packed qkv tensor laid
// out exactly as the DiT qkv Linear writes it: [N,T,3,H,Dh], channel s*D + h*Dh + d.
#include <algorithm>
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t N = 2, T = 37, H = 7, Dh = 72, D = H * Dh;

// Scores are fp32 dot products of Dh terms (within gamma_Dh = 4.3e-6 of sum|q k|); the probabilities
// inherit that error times `scale`, from their own score and from the row maximum, which the
// reference's magnitude counts as 2 * scale * max sum|q k|. exp (~2e-7), the softmax sum and the
// weighted sum over T values (gamma_T = 2.2e-6) add a relative error well below 1e-5 of sum p|v|.
constexpr Tolerance kAttention{1e-5, 1e-5, 0};

// On a CUDA device in TF32 or BF16 attention runs on tensor cores (attention_tc: tf32 mma for both modes),
// u = 2^-11. q*scale and k are rounded: each score is off by delta <= scale * (2u + u^2 + (Dh+1) 2^-23) *
// sum|q k| (products exact, fp32 accumulation that may truncate). Scores off by <= delta move every
// probability by a factor within e^{+-2 delta}, so P V moves by <= (e^{2 delta} - 1) sum p|v|
// <= e^{2 delta} (2u + ...) * 2 scale max sum|q k| * sum p|v|: the reference's magnitude term. With inputs in
// [-3, 3), Dh = 72 and scale <= 0.125, scale * max sum|q k| <= 81, delta <= 0.08 and e^{2 delta} <= 1.18 < 1.25. The rounded p
// (not the fp32 row sum) and v and the T-term fp32 sum add (2u + u^2 + (T+1) 2^-23) sum p|v|. The
// magnitude sum p|v| (1 + 2 scale max sum|q k|) covers both; the fp32 parts (exp, row sum) stay in kAttention.
// The CPU in bf16 (attention_bf16.cpp) rounds q, k, v and p's numerators to bf16, u = 2^-8, products exact and summed in fp32:
// the same argument with delta <= 81 (2u + u^2 + 73 * 2^-23) <= 0.635, e^{2 delta} (1 + u)^2 <= 3.6 (the (1 + u)^2
// from the rounded p and v).
Tolerance attention_tolerance(const Backend& b) {
    if (gemm_precision(b) == DD_PRECISION_FP32) return kAttention;
    const bool cpu = b.device_type == DD_DEVICE_CPU;
    const double u = cpu ? bf16_unit_roundoff() : tf32_unit_roundoff(), growth = cpu ? 3.6 : 1.25;
    const double acc = (double)(std::max(Dh, T) + 1) * std::ldexp(1.0, -23);
    return {kAttention.rtol, kAttention.per_magnitude + growth * (2 * u + u * u + acc), 0};
}

// Queries against other keys (token caching): the CUDA devices run the plain fp32 attention_rows kernel at every
// precision; the CPU's bf16 path serves it like self-attention.
Tolerance cross_attention_tolerance(const Backend& b) {
    return b.device_type == DD_DEVICE_CPU ? attention_tolerance(b) : kAttention;
}

// q/k/v (s = 0/1/2) of a packed [N,T,3,H,Dh] tensor as an [N,T,H,Dh] view.
Tensor qkv_view(const Tensor& qkv, int s, int64_t tokens = T) {
    return view(qkv, {N, tokens, H, Dh}, {tokens * 3 * D, 3 * D, Dh, 1}, s * D);
}

// The same, densely on the host for the reference.
std::vector<float> qkv_part(const std::vector<float>& qkv, int s, int64_t tokens = T) {
    return column_slice(qkv, N * tokens, 3 * D, s * D, D);
}

class AttentionTest : public OpTest {};

// Values in [-3, 3) make the scores spread over several units after scaling: a peaked softmax.
TEST_P(AttentionTest, PackedQkvViews) {
    const auto packed = rng.uniform(N * T * 3 * D, -3, 3);
    const double scale = 1.0 / std::sqrt((double)Dh);
    Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {N, T, H, Dh});
    Tensor q = qkv_view(qkv, 0), k = qkv_view(qkv, 1), v = qkv_view(qkv, 2);
    DD_RUN_OP(dd_attention(q.get(), k.get(), v.get(), (float)scale, out.get()));
    const auto want = ddref::attention(qkv_part(packed, 0), qkv_part(packed, 1), qkv_part(packed, 2), N, T, H, Dh,
                                       (float)scale);
    EXPECT_TRUE(AllClose(download(out.get()), want, attention_tolerance(backend())));
}

// out written head-major: an [N,T,H,Dh] view of an [N,H,T,Dh] tensor (token stride Dh, head stride T*Dh).
TEST_P(AttentionTest, HeadMajorOutputView) {
    const auto packed = rng.uniform(N * T * 3 * D, -2, 2);
    const float scale = 1.0f / std::sqrt((float)Dh);
    Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh}), ob = new_tensor(backend(), DD_F32, {N, H, T, Dh});
    Tensor q = qkv_view(qkv, 0), k = qkv_view(qkv, 1), v = qkv_view(qkv, 2);
    Tensor out = view(ob, {N, T, H, Dh}, {H * T * Dh, Dh, T * Dh, 1}, 0);
    DD_RUN_OP(dd_attention(q.get(), k.get(), v.get(), scale, out.get()));
    const auto head_major = download(ob.get());
    std::vector<float> got(head_major.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t t = 0; t < T; ++t)
                for (int64_t d = 0; d < Dh; ++d)
                    got[((n * T + t) * H + h) * Dh + d] = head_major[((n * H + h) * T + t) * Dh + d];
    const auto want = ddref::attention(qkv_part(packed, 0), qkv_part(packed, 1), qkv_part(packed, 2), N, T, H, Dh,
                                       scale);
    EXPECT_TRUE(AllClose(got, want, attention_tolerance(backend())));
}

// One token: the softmax is [1], so out equals v.
TEST_P(AttentionTest, SingleToken) {
    const auto packed = rng.uniform(N * 1 * 3 * D, -3, 3);
    Tensor qkv = upload_f32(backend(), packed, {N, 1, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {N, 1, H, Dh});
    Tensor q = qkv_view(qkv, 0, 1), k = qkv_view(qkv, 1, 1), v = qkv_view(qkv, 2, 1);
    DD_RUN_OP(dd_attention(q.get(), k.get(), v.get(), 0.125f, out.get()));
    EXPECT_TRUE(AllClose(download(out.get()), ddref::attention(qkv_part(packed, 0, 1), qkv_part(packed, 1, 1),
                                                               qkv_part(packed, 2, 1), N, 1, H, Dh, 0.125),
                         attention_tolerance(backend())));
}

// k and v at token stride 0 (token 0 broadcast to all T): the header allows any strides on N,T,H, so
// the op must either compute with them (all scores of a row equal: out = v of token 0) or refuse.
TEST_P(AttentionTest, ZeroTokenStrideKeysAndValues) {
    const auto packed = rng.uniform(N * T * 3 * D, -3, 3);
    Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {N, T, H, Dh});
    Tensor q = qkv_view(qkv, 0);
    Tensor k = view(qkv, {N, T, H, Dh}, {T * 3 * D, 0, Dh, 1}, D);
    Tensor v = view(qkv, {N, T, H, Dh}, {T * 3 * D, 0, Dh, 1}, 2 * D);
    const dd_status s = dd_attention(q.get(), k.get(), v.get(), 0.125f, out.get());
    // A kernel limit (DD_ERR_UNSUPPORTED) is not one of the two allowed answers: it fails below.
    if (s != DD_OK) {
        EXPECT_EQ(s, DD_ERR_INVALID_ARGUMENT) << dd_last_error();
        return;
    }
    std::vector<float> kb(N * T * D), vb(N * T * D);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t c = 0; c < D; ++c) {
                kb[(n * T + t) * D + c] = packed[n * T * 3 * D + D + c];
                vb[(n * T + t) * D + c] = packed[n * T * 3 * D + 2 * D + c];
            }
    EXPECT_TRUE(AllClose(download(out.get()), ddref::attention(qkv_part(packed, 0), kb, vb, N, T, H, Dh, 0.125),
                         attention_tolerance(backend())));
}

// Fewer (and more) queries than keys, as token caching runs it: the chosen tokens' queries (gathered, dense
// [N,Tq,H,Dh]) against every token's keys and values in a packed qkv [N,Tk,3,H,Dh].
TEST_P(AttentionTest, QueriesAgainstMoreKeys) {
    for (int64_t tq : {int64_t{9}, T + 3}) {
        SCOPED_TRACE("Tq=" + std::to_string(tq) + " Tk=" + std::to_string(T));
        const auto packed = rng.uniform(N * T * 3 * D, -3, 3), hq = rng.uniform(N * tq * D, -3, 3);
        const float scale = 1.0f / std::sqrt((float)Dh);
        Tensor qkv = upload_f32(backend(), packed, {N, T, 3, H, Dh});
        Tensor q = upload_f32(backend(), hq, {N, tq, H, Dh}), out = new_tensor(backend(), DD_F32, {N, tq, H, Dh});
        DD_RUN_OP(dd_attention(q.get(), qkv_view(qkv, 1).get(), qkv_view(qkv, 2).get(), scale, out.get()));
        EXPECT_TRUE(AllClose(download(out.get()),
                             ddref::attention_rows(hq, qkv_part(packed, 1), qkv_part(packed, 2), N, tq, T, H, Dh, scale),
                             cross_attention_tolerance(backend())));
    }
}

// ---- the CPU's bf16 path, tightly: it rounds q, k, v and the softmax's fp32 numerators e_j to bf16 (nearest even),
// accumulates in fp32 and divides each output row by the fp32 sum of the e_j. Against the double reference on the
// rounded q, k, v only the fp32 arithmetic (kAttention times the reference's magnitude) and the rounding of e remain:
// each effective p_j within a factor (1 + u) of its fp32 value (itself within 1.001 of the exact one here), v exact,
// so the rounding adds at most 1.01 u sum_j p_j |v_j|.

// bf16 keeps 8 significant bits: x = m 2^e with 0.5 <= |m| < 1, m rounded to a multiple of 2^-8 (rint: nearest even).
std::vector<float> rounded_to_bf16(std::vector<float> x) {
    for (float& f : x) {
        int e = 0;
        const double m = std::frexp((double)f, &e);
        f = (float)std::ldexp(std::rint(std::ldexp(m, 8)), e - 8);
    }
    return x;
}

// attention_rows on the rounded inputs, its magnitude replaced by the bound above (compare with per_magnitude 1).
ddref::Expected bf16_attention_reference(const std::vector<float>& q, const std::vector<float>& k,
                                         const std::vector<float>& v, int64_t n_, int64_t tq, int64_t tk, int64_t h_,
                                         int64_t dh, double scale) {
    const auto qr = rounded_to_bf16(q), kr = rounded_to_bf16(k), vr = rounded_to_bf16(v);
    ddref::Expected e = ddref::attention_rows(qr, kr, vr, n_, tq, tk, h_, dh, scale);
    std::vector<double> p((size_t)tk);
    for (int64_t n = 0; n < n_; ++n)
        for (int64_t h = 0; h < h_; ++h)
            for (int64_t i = 0; i < tq; ++i) {
                const size_t qi = (size_t)(((n * tq + i) * h_ + h) * dh), k0 = (size_t)((n * tk * h_ + h) * dh);
                ddref::softmax_row(&qr[qi], &kr[k0], h_ * dh, tk, dh, scale, p);
                for (int64_t d = 0; d < dh; ++d) {
                    double pv = 0;
                    for (int64_t j = 0; j < tk; ++j) pv += p[j] * std::fabs((double)vr[k0 + j * h_ * dh + d]);
                    e.magnitude[qi + d] = kAttention.per_magnitude * e.magnitude[qi + d] + 1.01 * bf16_unit_roundoff() * pv;
                }
            }
    return e;
}

constexpr Tolerance kBf16Rounded{kAttention.rtol, 1.0, 0};

// The bf16 path serves every head size, several heads a matmul call where their scores are small (the tests above
// hold it to the bf16 bound too); these tests use 130 tokens (one head a call).
constexpr int64_t kBf16T = 130;

bool is_cpu_bf16(const Backend& b) { return b.device_type == DD_DEVICE_CPU && b.precision == DD_PRECISION_BF16; }

// Self-attention on packed qkv views, and fewer / more queries than keys (token caching's cached steps).
TEST_P(AttentionTest, CpuBf16RoundsOperandsAndProbabilitiesOnce) {
    if (!is_cpu_bf16(backend())) GTEST_SKIP() << "the CPU's bf16 path only";
    const int64_t t = kBf16T;
    const auto packed = rng.uniform(N * t * 3 * D, -3, 3);
    const float scale = 1.0f / std::sqrt((float)Dh);
    Tensor qkv = upload_f32(backend(), packed, {N, t, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {N, t, H, Dh});
    DD_RUN_OP(dd_attention(qkv_view(qkv, 0, t).get(), qkv_view(qkv, 1, t).get(), qkv_view(qkv, 2, t).get(), scale,
                           out.get()));
    EXPECT_TRUE(AllClose(download(out.get()),
                         bf16_attention_reference(qkv_part(packed, 0, t), qkv_part(packed, 1, t),
                                                  qkv_part(packed, 2, t), N, t, t, H, Dh, scale),
                         kBf16Rounded));
    for (int64_t tq : {t - 3, t + 3}) {
        SCOPED_TRACE("Tq=" + std::to_string(tq));
        const auto hq = rng.uniform(N * tq * D, -3, 3);
        Tensor q = upload_f32(backend(), hq, {N, tq, H, Dh}), o = new_tensor(backend(), DD_F32, {N, tq, H, Dh});
        DD_RUN_OP(dd_attention(q.get(), qkv_view(qkv, 1, t).get(), qkv_view(qkv, 2, t).get(), scale, o.get()));
        EXPECT_TRUE(AllClose(download(o.get()),
                             bf16_attention_reference(hq, qkv_part(packed, 1, t), qkv_part(packed, 2, t), N, tq, t, H,
                                                      Dh, scale),
                             kBf16Rounded));
    }
}

// Packed sequences (FlexiDiT), lengths 23, 0, 1, 300 (more than one chunk of query rows), in [R,3,H,Dh].
TEST_P(AttentionTest, CpuBf16Varlen) {
    if (!is_cpu_bf16(backend())) GTEST_SKIP() << "the CPU's bf16 path only";
    const std::vector<int32_t> cu{0, 23, 23, 24, 324};
    const int64_t R = cu.back();
    const auto packed = rng.uniform(R * 3 * D, -3, 3);
    const float scale = 1.0f / std::sqrt((float)Dh);
    Tensor qkv = upload_f32(backend(), packed, {R, 3, H, Dh}), out = new_tensor(backend(), DD_F32, {R, H, Dh});
    Tensor cus = upload_i32(backend(), cu, {(int64_t)cu.size()});
    auto part = [&](int s) { return view(qkv, {R, H, Dh}, {3 * D, Dh, 1}, s * D); };
    DD_RUN_OP(dd_attention_varlen(part(0).get(), part(1).get(), part(2).get(), cus.get(), scale, out.get()));
    const auto got = download(out.get());
    for (size_t b = 0; b + 1 < cu.size(); ++b) {
        const int64_t r0 = cu[b], len = cu[b + 1] - r0;
        if (len == 0) continue;
        SCOPED_TRACE("sequence " + std::to_string(b) + " of length " + std::to_string(len));
        const std::vector<float> seq(packed.begin() + r0 * 3 * D, packed.begin() + (r0 + len) * 3 * D);
        auto host = [&](int s) { return column_slice(seq, len, 3 * D, s * D, D); };
        EXPECT_TRUE(AllClose(std::vector<float>(got.begin() + r0 * D, got.begin() + (r0 + len) * D),
                             bf16_attention_reference(host(0), host(1), host(2), 1, len, len, H, Dh, scale),
                             kBf16Rounded));
    }
}

// Each head's products are planned for one thread and run by one thread: one thread and three give the same bits.
TEST_P(AttentionTest, CpuBf16ResultDoesNotDependOnTheThreadCount) {
    if (!is_cpu_bf16(backend())) GTEST_SKIP() << "the CPU's bf16 path only";
    const int64_t t = kBf16T;
    const auto packed = rng.uniform(N * t * 3 * D, -3, 3);
    Tensor qkv = upload_f32(backend(), packed, {N, t, 3, H, Dh});
    const int before = dd_num_threads();
    std::vector<std::vector<float>> got;
    for (int threads : {1, 3}) {
        dd_set_num_threads(threads);
        Tensor out = new_tensor(backend(), DD_F32, {N, t, H, Dh});
        const dd_status st = dd_attention(qkv_view(qkv, 0, t).get(), qkv_view(qkv, 1, t).get(),
                                          qkv_view(qkv, 2, t).get(), 0.125f, out.get());
        EXPECT_EQ(st, DD_OK) << dd_last_error();
        got.push_back(download(out.get()));
    }
    dd_set_num_threads(before);
    EXPECT_EQ(got[0], got[1]);
}

// ---- bf16 q, k, v and out (in the bf16 GEMM precision: CUDA's attention_flash2_bf16, the CPU's bf16 path reading
// them in place). It computes what the CPU's bf16 path does on inputs that are bf16 already (products exact,
// fp32 sums, the numerators e_j rounded to bf16, divided by their fp32 sum), so bf16_attention_reference bounds it;
// rounding the output to bf16 once (8 significant bits) moves it by at most u = 2^-8 of its magnitude (1.01: of the
// value's own error).
const Tolerance kBf16Io{kAttention.rtol + 1.01 * bf16_unit_roundoff(), 1.0, 0};

class AttentionBf16IoTest : public OpTest {
protected:
    bool bf16() const { return gemm_precision(backend()) == DD_PRECISION_BF16; }
    bool cpu() const { return backend().device_type == DD_DEVICE_CPU; }
    // True when this backend refuses bf16 operands, after checking how: outside the bf16 GEMM precision with
    // DD_ERR_DTYPE naming q and the precision.
    bool refused(dd_status s, const char* op = "dd_attention") {
        if (bf16()) return false;
        EXPECT_TRUE(FailsWith(s, DD_ERR_DTYPE, {op, "'q'", "bf16 GEMM precision"}));
        return true;
    }
};

// Packed [N,T,3,H,P] qkv in bf16 with heads of Dh <= P values (P a multiple of 8: the kernel's 16-B copies), viewed
// per part as [N,T,H,Dh]; T = 130: two 128-row query tiles and three key tiles, the last of 2 keys. Dh 20 in rows of
// 24 (a head's last copy is half past Dh: those values are random and must not be read), 24 (bucket 32), 72 (DiT-XL/2)
// and 128.
TEST_P(AttentionBf16IoTest, PackedQkvIntoBf16AgainstTheBf16Reference) {
    const int64_t n = 2, t = 130, h = 2;
    for (auto [dh, p] : {std::pair<int64_t, int64_t>{20, 24}, {24, 24}, {72, 72}, {128, 128}}) {
        SCOPED_TRACE("Dh=" + std::to_string(dh) + " in rows of " + std::to_string(p));
        const int64_t w = h * p;
        const auto packed = rounded_to_bf16(rng.uniform(n * t * 3 * w, -3, 3));
        Tensor qkv = converted(backend(), upload_f32(backend(), packed, {n, t, 3, h, p}), DD_BF16);
        Tensor out = new_tensor(backend(), DD_BF16, {n, t, h, dh});
        auto part = [&](int s) { return view(qkv, {n, t, h, dh}, {t * 3 * w, 3 * w, p, 1}, s * w); };
        const float scale = 1.0f / std::sqrt((float)dh);
        const dd_status st = dd_attention(part(0).get(), part(1).get(), part(2).get(), scale, out.get());
        if (refused(st)) return;
        ASSERT_EQ(st, DD_OK) << dd_last_error();
        auto host = [&](int s) {  // part s, heads cut to Dh, dense [n, t, h, dh]
            std::vector<float> r;
            for (int64_t row = 0; row < n * t; ++row)
                for (int64_t hh = 0; hh < h; ++hh)
                    for (int64_t d = 0; d < dh; ++d) r.push_back(packed[(size_t)(row * 3 * w + s * w + hh * p + d)]);
            return r;
        };
        EXPECT_TRUE(AllClose(download(converted(backend(), out, DD_F32).get()),
                             bf16_attention_reference(host(0), host(1), host(2), n, t, t, h, dh, scale), kBf16Io));
    }
}

// Packed sequences of lengths 23, 0, 1, 300 (three query tiles) in a bf16 [R,3,H,Dh] qkv, through dd_attention_varlen.
TEST_P(AttentionBf16IoTest, VarlenPackedSequencesIntoBf16) {
    const std::vector<int32_t> cu{0, 23, 23, 24, 324};
    const int64_t R = cu.back(), h = 2, dh = 72, w = h * dh;
    const auto packed = rounded_to_bf16(rng.uniform(R * 3 * w, -3, 3));
    const float scale = 1.0f / std::sqrt((float)dh);
    Tensor qkv = converted(backend(), upload_f32(backend(), packed, {R, 3, h, dh}), DD_BF16);
    Tensor out = new_tensor(backend(), DD_BF16, {R, h, dh});
    Tensor cus = upload_i32(all_backends()[0], cu, {(int64_t)cu.size()});  // on the host
    auto part = [&](int s) { return view(qkv, {R, h, dh}, {3 * w, dh, 1}, s * w); };
    const dd_status st = dd_attention_varlen(part(0).get(), part(1).get(), part(2).get(), cus.get(), scale, out.get());
    if (refused(st, "dd_attention_varlen")) return;
    ASSERT_EQ(st, DD_OK) << dd_last_error();
    const auto got = download(converted(backend(), out, DD_F32).get());
    for (size_t b = 0; b + 1 < cu.size(); ++b) {
        const int64_t r0 = cu[b], len = cu[b + 1] - r0;
        if (len == 0) continue;
        SCOPED_TRACE("sequence " + std::to_string(b) + " of length " + std::to_string(len));
        const std::vector<float> seq(packed.begin() + r0 * 3 * w, packed.begin() + (r0 + len) * 3 * w);
        auto host = [&](int s) { return column_slice(seq, len, 3 * w, s * w, w); };
        EXPECT_TRUE(AllClose(std::vector<float>(got.begin() + r0 * w, got.begin() + (r0 + len) * w),
                             bf16_attention_reference(host(0), host(1), host(2), 1, len, len, h, dh, scale), kBf16Io));
    }
}

// All four of one dtype; the bf16 kernel's limits (16-B copies, self-attention) named where a backend takes bf16.
TEST_P(AttentionBf16IoTest, MixedDtypesAndShapesTheKernelCannotTakeAreRefused) {
    const int64_t n = 1, t = 9, h = 2, dh = 16;
    auto random16 = [&](const Shape& shape) {
        return converted(backend(), upload_f32(backend(), rng.uniform(numel(shape), -1, 1), shape), DD_BF16);
    };
    Tensor q = random16({n, t, h, dh}), k = random16({n, t, h, dh}), v = random16({n, t, h, dh});
    Tensor o = new_tensor(backend(), DD_BF16, {n, t, h, dh});
    Tensor k32 = new_tensor(backend(), DD_F32, {n, t, h, dh}), o32 = new_tensor(backend(), DD_F32, {n, t, h, dh});
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k32.get(), v.get(), 0.25f, o.get()), DD_ERR_DTYPE,
                          {"dd_attention", "'k'", "f32", "bf16"}));
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k.get(), v.get(), 0.25f, o32.get()), DD_ERR_DTYPE,
                          {"dd_attention", "'out'", "f32", "bf16"}));
    // the key-mass form stays f32
    Tensor mass = new_tensor(backend(), DD_F32, {n, t});
    EXPECT_TRUE(FailsWith(dd_attention_with_key_mass(q.get(), k.get(), v.get(), 0.25f, o.get(), mass.get(), nullptr),
                          DD_ERR_DTYPE, {"dd_attention_with_key_mass", "'q'", "bf16", "f32"}));
    if (refused(dd_attention(q.get(), k.get(), v.get(), 0.25f, o.get())) || cpu()) return;  // the CPU: any shape
    // heads of 12 values: strides not multiples of 8
    Tensor q12 = random16({n, t, h, 12}), o12 = new_tensor(backend(), DD_BF16, {n, t, h, 12});
    EXPECT_TRUE(FailsWith(dd_attention(q12.get(), q12.get(), q12.get(), 0.25f, o12.get()), DD_ERR_UNSUPPORTED,
                          {"attention_flash2_bf16", "16-byte", "multiples of 8"}));
    Tensor k5 = random16({n, 5, h, dh});
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k5.get(), k5.get(), 0.25f, o.get()), DD_ERR_UNSUPPORTED,
                          {"attention_flash2_bf16", "self-attention"}));
}

// The CPU takes any shape in bf16: heads of 12 values (rows not multiples of 8), cross-attention (7 queries against
// 9 keys: several heads a matmul call), against the bf16 reference.
TEST_P(AttentionBf16IoTest, CpuTakesAnyShape) {
    if (!cpu() || !bf16()) GTEST_SKIP() << "the CPU in bf16";
    const int64_t n = 2, h = 3, dh = 12, tq = 7, tk = 9;
    const auto hq = rounded_to_bf16(rng.uniform(n * tq * h * dh, -3, 3));
    const auto hk = rounded_to_bf16(rng.uniform(n * tk * h * dh, -3, 3)), hv = rounded_to_bf16(rng.uniform(n * tk * h * dh, -3, 3));
    auto bf16_of = [&](const std::vector<float>& x, Shape shape) {
        return converted(backend(), upload_f32(backend(), x, shape), DD_BF16);
    };
    Tensor q = bf16_of(hq, {n, tq, h, dh}), k = bf16_of(hk, {n, tk, h, dh}), v = bf16_of(hv, {n, tk, h, dh});
    Tensor out = new_tensor(backend(), DD_BF16, {n, tq, h, dh});
    const float scale = 0.4f;
    DD_RUN_OP(dd_attention(q.get(), k.get(), v.get(), scale, out.get()));
    EXPECT_TRUE(AllClose(download(converted(backend(), out, DD_F32).get()),
                         bf16_attention_reference(hq, hk, hv, n, tq, tk, h, dh, scale), kBf16Io));
}

// bf16 operands give the bits f32 operands give, rounded to bf16 once: f32 operands are rounded to bf16 first, so the
// CPU's bf16 forward (bf16 qkv and attention output) equals the one with f32 ones. Packed qkv views of 130 tokens
// (one head a matmul call) and 9 (several), and packed sequences through dd_attention_varlen.
TEST_P(AttentionBf16IoTest, CpuBf16OperandsEqualTheirF32ValuesRounded) {
    if (!cpu() || !bf16()) GTEST_SKIP() << "the CPU in bf16";
    const int64_t n = 2, h = 2, dh = 64, w = h * dh;
    for (int64_t t : {130, 9}) {
        SCOPED_TRACE("T=" + std::to_string(t));
        const auto packed = rng.uniform(n * t * 3 * w, -3, 3);
        Tensor qkv32 = upload_f32(backend(), packed, {n, t, 3, h, dh}), qkv16 = converted(backend(), qkv32, DD_BF16);
        auto part = [&](const Tensor& x, int s) { return view(x, {n, t, h, dh}, {t * 3 * w, 3 * w, dh, 1}, s * w); };
        Tensor o32 = new_tensor(backend(), DD_F32, {n, t, h, dh}), o16 = new_tensor(backend(), DD_BF16, {n, t, h, dh});
        DD_RUN_OP(dd_attention(part(qkv32, 0).get(), part(qkv32, 1).get(), part(qkv32, 2).get(), 0.125f, o32.get()));
        DD_RUN_OP(dd_attention(part(qkv16, 0).get(), part(qkv16, 1).get(), part(qkv16, 2).get(), 0.125f, o16.get()));
        EXPECT_EQ(download(converted(backend(), o16, DD_F32).get()), rounded_to_bf16(download(o32.get())));
    }
    for (const std::vector<int32_t>& cu : {std::vector<int32_t>{0, 23, 23, 24, 324}, {0, 5, 16}}) {
        SCOPED_TRACE("varlen, " + std::to_string(cu.back()) + " rows");
        const int64_t R = cu.back();
        const auto packed = rng.uniform(R * 3 * w, -3, 3);
        Tensor qkv32 = upload_f32(backend(), packed, {R, 3, h, dh}), qkv16 = converted(backend(), qkv32, DD_BF16);
        Tensor cus = upload_i32(backend(), cu, {(int64_t)cu.size()});
        auto part = [&](const Tensor& x, int s) { return view(x, {R, h, dh}, {3 * w, dh, 1}, s * w); };
        Tensor o32 = new_tensor(backend(), DD_F32, {R, h, dh}), o16 = new_tensor(backend(), DD_BF16, {R, h, dh});
        DD_RUN_OP(dd_attention_varlen(part(qkv32, 0).get(), part(qkv32, 1).get(), part(qkv32, 2).get(), cus.get(),
                                      0.125f, o32.get()));
        DD_RUN_OP(dd_attention_varlen(part(qkv16, 0).get(), part(qkv16, 1).get(), part(qkv16, 2).get(), cus.get(),
                                      0.125f, o16.get()));
        EXPECT_EQ(download(converted(backend(), o16, DD_F32).get()), rounded_to_bf16(download(o32.get())));
    }
}

// A sample's output does not depend on its batch: heads go several to a matmul call by the batch's size (one sample
// of 12 heads: 1 a call; 8 samples: 12), and each head's products are the same either way.
TEST_P(AttentionBf16IoTest, CpuBf16SampleDoesNotDependOnTheBatch) {
    if (!cpu() || !bf16()) GTEST_SKIP() << "the CPU in bf16";
    const int64_t n = 8, t = 40, h = 12, dh = 16, w = h * dh;
    const auto packed = rng.uniform(n * t * 3 * w, -3, 3);
    Tensor all = upload_f32(backend(), packed, {n, t, 3, h, dh});
    Tensor one = upload_f32(backend(), std::vector<float>(packed.begin(), packed.begin() + t * 3 * w), {1, t, 3, h, dh});
    auto part = [&](const Tensor& x, int64_t batch, int s) {
        return view(x, {batch, t, h, dh}, {t * 3 * w, 3 * w, dh, 1}, s * w);
    };
    Tensor o8 = new_tensor(backend(), DD_F32, {n, t, h, dh}), o1 = new_tensor(backend(), DD_F32, {1, t, h, dh});
    DD_RUN_OP(dd_attention(part(all, n, 0).get(), part(all, n, 1).get(), part(all, n, 2).get(), 0.25f, o8.get()));
    DD_RUN_OP(dd_attention(part(one, 1, 0).get(), part(one, 1, 1).get(), part(one, 1, 2).get(), 0.25f, o1.get()));
    const auto a = download(o8.get()), b = download(o1.get());
    EXPECT_EQ(std::vector<float>(a.begin(), a.begin() + t * w), b);
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(AttentionTest);
DD_INSTANTIATE_ON_GEMM_BACKENDS(AttentionBf16IoTest);

}  // namespace
