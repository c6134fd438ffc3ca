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
Tolerance attention_tolerance(const Backend& b) {
    if (b.device_type == DD_DEVICE_CPU || b.precision == DD_PRECISION_FP32) return kAttention;
    const double u = tf32_unit_roundoff(), acc = (double)(std::max(Dh, T) + 1) * std::ldexp(1.0, -23);
    return {kAttention.rtol, kAttention.per_magnitude + 1.25 * (2 * u + u * u + acc), 0};
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
// [N,Tq,H,Dh]) against every token's keys and values in a packed qkv [N,Tk,3,H,Dh]. On CUDA devices this is the
// plain fp32 attention_rows kernel at every precision, so the fp32 tolerance holds there too.
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
                             kAttention));
    }
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(AttentionTest);

}  // namespace
