// Error paths of the dense ops (linear, layernorm_modulate, activations, gated residual, attention):
// the status code, a message naming the op's tensor with expected and actual shapes, and no write to
// the output when a check fails.
#include <cmath>

#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t M = 37, N = 71, K = 129;  // linear
constexpr int64_t B = 3, T = 37, D = 72;     // [N,T,D] activations (B = batch)

Tensor f32(const Shape& s) { return upload_f32(all_backends()[0], std::vector<float>(numel(s), 0.5f), s); }

TEST(LinearErrors, NullTensorsAreNamed) {
    Tensor x = f32({M, K}), w = f32({N, K}), y = f32({M, N});
    EXPECT_TRUE(FailsWith(dd_linear(nullptr, w.get(), nullptr, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_linear", "'x'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), nullptr, nullptr, y.get()), DD_ERR_INVALID_ARGUMENT, {"'w'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), nullptr, nullptr), DD_ERR_INVALID_ARGUMENT, {"'y'", "NULL"}));
}

TEST(LinearErrors, WrongDtypes) {
    Tensor x = f32({M, K}), w = f32({N, K}), y = f32({M, N});
    Tensor xi = new_cpu(DD_I32, {M, K}), bi = new_cpu(DD_I32, {N});
    EXPECT_TRUE(FailsWith(dd_linear(xi.get(), w.get(), nullptr, y.get()), DD_ERR_DTYPE, {"'x'", "i32", "f32"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), bi.get(), y.get()), DD_ERR_DTYPE, {"'bias'", "i32", "f32"}));
}

TEST(LinearErrors, WrongShapesNameTensorAndShapes) {
    Tensor x = f32({M, K}), w = f32({N, K}), b = f32({N}), y = f32({M, N});
    Tensor w_wide = f32({N, K + 1}), b_long = f32({N + 1}), y_narrow = f32({M, N - 1}), y_tall = f32({M + 1, N});
    Tensor y3 = f32({1, M, N});
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w_wide.get(), b.get(), y.get()), DD_ERR_SHAPE,
                          {"'w'", "[71,130]", "[*,129]"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), b_long.get(), y.get()), DD_ERR_SHAPE,
                          {"'bias'", "[72]", "[71]"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), b.get(), y_narrow.get()), DD_ERR_SHAPE,
                          {"'y'", "[37,70]", "71"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), b.get(), y_tall.get()), DD_ERR_SHAPE,
                          {"'y'", "[38,71]", "[37,129]"}));
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w.get(), b.get(), y3.get()), DD_ERR_SHAPE, {"'y'", "rank 3", "rank 2"}));
    Tensor x0 = f32({}), y0 = f32({});
    EXPECT_TRUE(FailsWith(dd_linear(x0.get(), w.get(), nullptr, y0.get()), DD_ERR_SHAPE, {"'x'", "rank >= 1"}));
}

TEST(LinearErrors, UnsupportedLayouts) {
    Tensor base = f32({2, M + 1, 2 * K}), w = f32({N, K}), y = f32({2, M, N}), y2 = f32({M, N});
    Tensor every_other = view(base, {M, K}, {2 * K, 2}, 0);                             // last dim strided
    Tensor ragged = view(base, {2, M, K}, {(M + 1) * 2 * K, 2 * K, 1}, 0);             // batch gap: rows not uniform
    EXPECT_TRUE(FailsWith(dd_linear(every_other.get(), w.get(), nullptr, y2.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'x'", "[37,129]", "contiguous last dimension"}));
    EXPECT_TRUE(FailsWith(dd_linear(ragged.get(), w.get(), nullptr, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'x'", "[2,37,129]", "one stride"}));
}

TEST(LinearErrors, NothingWrittenOnFailure) {
    Tensor x = f32({M, K}), w_wide = f32({N, K + 1});
    const std::vector<float> sentinel(M * N, -7.f);
    Tensor y = upload_f32(all_backends()[0], sentinel, {M, N});
    ASSERT_EQ(dd_linear(x.get(), w_wide.get(), nullptr, y.get()), DD_ERR_SHAPE);
    EXPECT_EQ(download(y.get()), sentinel);
}

class LayerNormErrors : public testing::Test {
protected:
    Tensor x = f32({B, T, D}), y = f32({B, T, D}), ada = f32({B, 6 * D});
    Tensor shift = view(ada, {B, D}, {6 * D, 1}, 0), scale = view(ada, {B, D}, {6 * D, 1}, D);
};

TEST_F(LayerNormErrors, ShiftAndScaleShapes) {
    Tensor wide_shift = view(ada, {B, D + 1}, {6 * D, 1}, 0), short_scale = view(ada, {B - 1, D}, {6 * D, 1}, D);
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), wide_shift.get(), scale.get(), 1e-6f, y.get()), DD_ERR_SHAPE,
                          {"dd_layernorm_modulate", "'shift'", "[3,73]", "[3,72]"}));
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift.get(), short_scale.get(), 1e-6f, y.get()), DD_ERR_SHAPE,
                          {"'scale'", "[2,72]", "[3,72]"}));
}

TEST_F(LayerNormErrors, XAndYShapes) {
    Tensor x2 = f32({B * T, D}), y_long = f32({B, T + 1, D});
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x2.get(), shift.get(), scale.get(), 1e-6f, y.get()), DD_ERR_SHAPE,
                          {"'x'", "[111,72]", "rank 3"}));
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), 1e-6f, y_long.get()), DD_ERR_SHAPE,
                          {"'y'", "[3,38,72]", "[3,37,72]"}));
}

TEST_F(LayerNormErrors, NullDtypeLayoutAndEps) {
    Tensor shift_i = new_cpu(DD_I32, {B, D}), scale_strided = view(ada, {B, D}, {6 * D, 2}, 0);
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(nullptr, shift.get(), scale.get(), 1e-6f, y.get()),
                          DD_ERR_INVALID_ARGUMENT, {"'x'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), 1e-6f, nullptr),
                          DD_ERR_INVALID_ARGUMENT, {"'y'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift_i.get(), scale.get(), 1e-6f, y.get()), DD_ERR_DTYPE,
                          {"'shift'", "i32", "f32"}));
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift.get(), scale_strided.get(), 1e-6f, y.get()),
                          DD_ERR_INVALID_ARGUMENT, {"'scale'", "contiguous last dimension"}));
    for (float eps : {0.f, -1e-6f, NAN})
        EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), eps, y.get()),
                              DD_ERR_INVALID_ARGUMENT, {"eps"}))
            << "eps " << eps;
}

TEST_F(LayerNormErrors, NothingWrittenOnFailure) {
    const std::vector<float> sentinel(B * T * D, -7.f);
    Tensor out = upload_f32(all_backends()[0], sentinel, {B, T, D});
    Tensor wide_shift = view(ada, {B, D + 1}, {6 * D, 1}, 0);
    ASSERT_EQ(dd_layernorm_modulate(x.get(), wide_shift.get(), scale.get(), 1e-6f, out.get()), DD_ERR_SHAPE);
    EXPECT_EQ(download(out.get()), sentinel);
}

TEST(ActivationErrors, EachCheckNamesTheTensor) {
    for (auto op : {dd_gelu_tanh, dd_silu}) {
        const char* name = op == dd_gelu_tanh ? "dd_gelu_tanh" : "dd_silu";
        SCOPED_TRACE(name);
        Tensor x = f32({100}), y = f32({100}), y_long = f32({101}), y2 = f32({10, 10}), xi = new_cpu(DD_I32, {100});
        Tensor base = f32({200}), strided = view(base, {100}, {2}, 0);
        EXPECT_TRUE(FailsWith(op(nullptr, y.get()), DD_ERR_INVALID_ARGUMENT, {name, "'x'", "NULL"}));
        EXPECT_TRUE(FailsWith(op(x.get(), nullptr), DD_ERR_INVALID_ARGUMENT, {"'y'", "NULL"}));
        EXPECT_TRUE(FailsWith(op(xi.get(), y.get()), DD_ERR_DTYPE, {"'x'", "i32"}));
        EXPECT_TRUE(FailsWith(op(x.get(), y_long.get()), DD_ERR_SHAPE, {"'y'", "[101]", "[100]"}));
        EXPECT_TRUE(FailsWith(op(x.get(), y2.get()), DD_ERR_SHAPE, {"'y'", "[10,10]", "rank 1"}));
        EXPECT_TRUE(FailsWith(op(strided.get(), y.get()), DD_ERR_INVALID_ARGUMENT, {"'x'", "[100]", "contiguous"}));
    }
}

TEST(GatedResidualErrors, EachCheckNamesTheTensor) {
    Tensor h = f32({B, T, D}), x = f32({B, T, D}), gate = f32({B, D});
    Tensor wide_gate = f32({B, D + 1}), short_x = f32({B, T - 1, D}), hi = new_cpu(DD_I32, {B, T, D});
    Tensor gate64 = new_cpu(DD_I64, {B, D});
    EXPECT_TRUE(FailsWith(dd_gated_residual_add(h.get(), wide_gate.get(), x.get()), DD_ERR_SHAPE,
                          {"dd_gated_residual_add", "'gate'", "[3,73]", "[3,72]"}));
    EXPECT_TRUE(FailsWith(dd_gated_residual_add(h.get(), gate.get(), short_x.get()), DD_ERR_SHAPE,
                          {"'x'", "[3,36,72]", "[3,37,72]"}));
    EXPECT_TRUE(FailsWith(dd_gated_residual_add(nullptr, gate.get(), x.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'h'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_gated_residual_add(hi.get(), gate.get(), x.get()), DD_ERR_DTYPE, {"'h'", "i32"}));
    EXPECT_TRUE(FailsWith(dd_gated_residual_add(h.get(), gate64.get(), x.get()), DD_ERR_DTYPE, {"'gate'", "i64"}));
}

class AttentionErrors : public testing::Test {
protected:
    static constexpr int64_t n = 2, t = 5, h = 3, dh = 8;
    Tensor qkv = f32({n, t, 3, h, dh}), out = f32({n, t, h, dh});
    Tensor q = part(0), k = part(1), v = part(2);
    // q/k/v (s = 0/1/2) of the packed tensor, optionally only its first `tokens` tokens.
    Tensor part(int s, int64_t tokens = t) {
        return view(qkv, {n, tokens, h, dh}, {t * 3 * h * dh, 3 * h * dh, dh, 1}, s * h * dh);
    }
};

TEST_F(AttentionErrors, ShapesNameTheTensor) {
    Tensor short_k = part(1, t - 1), wide_out = f32({n, t, h, dh + 1}), q3 = f32({n, t, h * dh});
    Tensor k_heads = f32({n, t, h + 1, dh});
    // k may have another token count than q (some queries against all keys), but v must match k
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), short_k.get(), v.get(), 0.5f, out.get()), DD_ERR_SHAPE,
                          {"dd_attention", "'v'", "[2,5,3,8]", "[2,4,3,8]"}));
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k_heads.get(), v.get(), 0.5f, out.get()), DD_ERR_SHAPE,
                          {"dd_attention", "'k'", "[2,5,4,8]", "[2,5,3,8]"}));
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k.get(), v.get(), 0.5f, wide_out.get()), DD_ERR_SHAPE,
                          {"'out'", "[2,5,3,9]", "[2,5,3,8]"}));
    EXPECT_TRUE(FailsWith(dd_attention(q3.get(), k.get(), v.get(), 0.5f, out.get()), DD_ERR_SHAPE,
                          {"'q'", "[2,5,24]", "rank 4"}));
}

TEST_F(AttentionErrors, NullDtypeLayoutAndScale) {
    Tensor vi = new_cpu(DD_I32, {n, t, h, dh});
    Tensor v_strided = view(qkv, {n, t, h, dh / 2}, {t * 3 * h * dh, 3 * h * dh, dh, 2}, 2 * h * dh);
    Tensor out_half = f32({n, t, h, dh / 2});
    EXPECT_TRUE(FailsWith(dd_attention(nullptr, k.get(), v.get(), 0.5f, out.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'q'", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_attention(q.get(), k.get(), vi.get(), 0.5f, out.get()), DD_ERR_DTYPE, {"'v'", "i32"}));
    Tensor q_half = view(qkv, {n, t, h, dh / 2}, {t * 3 * h * dh, 3 * h * dh, dh, 1}, 0);
    Tensor k_half = view(qkv, {n, t, h, dh / 2}, {t * 3 * h * dh, 3 * h * dh, dh, 1}, h * dh);
    EXPECT_TRUE(FailsWith(dd_attention(q_half.get(), k_half.get(), v_strided.get(), 0.5f, out_half.get()),
                          DD_ERR_INVALID_ARGUMENT, {"'v'", "contiguous last dimension"}));
    for (float scale : {0.f, -0.5f, NAN})
        EXPECT_TRUE(FailsWith(dd_attention(q.get(), k.get(), v.get(), scale, out.get()), DD_ERR_INVALID_ARGUMENT,
                              {"scale"}))
            << "scale " << scale;
}

// Tensors on two devices: only constructible where CUDA works (or on cuda-emu with DYNDIT_TEST_CUDA=emu).
TEST(DeviceErrors, TensorsOnDifferentDevices) {
    const int64_t shape[] = {4, 8};
    const int cuda = cuda_test_device_type();
    dd_tensor* raw = nullptr;
    if (dd_tensor_new(cuda, 0, DD_F32, 2, shape, &raw) != DD_OK)
        GTEST_SKIP() << "no CUDA tensor on this machine: " << dd_last_error();
    Tensor w_gpu(raw), x = f32({3, 8}), y = f32({3, 4});
    EXPECT_TRUE(FailsWith(dd_linear(x.get(), w_gpu.get(), nullptr, y.get()), DD_ERR_DEVICE,
                          {"'w'", cuda == DD_DEVICE_CUDA_EMU ? "cuda-emu:0" : "cuda:0", "'x'", "cpu:0"}));
}

}  // namespace
