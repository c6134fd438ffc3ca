// The CUDA backend's bf16 weight copies (native/src/cuda/bf16_weights.h): dd_linear in bf16 reads W from a
// bf16 copy made once per weight view; the copy must follow rewrites through the tensor API (dd_tensor_write,
// dd_tensor_zero), also under a graph that reads it, die with the memory (a new tensor at the same address gets
// its own), differ per view, and a forward captured into a graph before any eager call (no copy can be made then)
// must still be right.
// Shapes the 128-row tiles that read the copy take (M > 64, padding <= 25% over 64x64 tiles, K a multiple of 8).
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

class CudaBf16Weights : public OpTest {
protected:
    Tolerance bound(int64_t K) const { return rounded_operand_gemm(bf16_unit_roundoff(), K, {1e-5, 1e-5, 0}); }
    // y = x w^T + b on the device, against the double reference of the given weight values.
    void expect_linear(const Tensor& x, const std::vector<float>& xs, const Tensor& w, const std::vector<float>& ws,
                       const Tensor& b, const std::vector<float>& bs, int64_t M, int64_t N, int64_t K, const char* what) {
        Tensor y = new_tensor(backend(), DD_F32, {M, N});
        DD_RUN_OP(dd_linear(x.get(), w.get(), b.get(), y.get()));
        EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, bs, M, N, K), bound(K))) << what;
    }
};

TEST_P(CudaBf16Weights, CopiesFollowRewritesAndFrees) {
    const int64_t M = 256, N = 128, K = 96;
    auto xs = rng.uniform(M * K, -1, 1), bs = rng.uniform(N, -1, 1);
    auto w1 = rng.uniform(N * K, -1, 1), w2 = rng.uniform(N * K, -1, 1), w3 = rng.uniform(N * K, -1, 1);
    Tensor x = upload_f32(backend(), xs, {M, K}), b = upload_f32(backend(), bs, {N});
    Tensor w = upload_f32(backend(), w1, {N, K});
    expect_linear(x, xs, w, w1, b, bs, M, N, K, "first use");
    expect_linear(x, xs, w, w1, b, bs, M, N, K, "second use (the kept copy)");
    require_ok(dd_tensor_write(w.get(), w2.data(), (int64_t)(w2.size() * sizeof(float)), 0), "dd_tensor_write");
    expect_linear(x, xs, w, w2, b, bs, M, N, K, "after dd_tensor_write");
    require_ok(dd_tensor_zero(w.get()), "dd_tensor_zero");
    expect_linear(x, xs, w, std::vector<float>(N * K, 0.0f), b, bs, M, N, K, "after dd_tensor_zero");
    // Freed and allocated again: the allocator may hand out the same address.
    w.reset();
    Tensor wn = upload_f32(backend(), w3, {N, K});
    expect_linear(x, xs, wn, w3, b, bs, M, N, K, "a new weight tensor after a free");
}

TEST_P(CudaBf16Weights, EachViewHasItsOwnCopy) {
    const int64_t M = 128, N = 72, K = 64, ld = K + 16;
    auto xs = rng.uniform(M * K, -1, 1), bs = rng.uniform(N, -1, 1), big = rng.uniform(2 * N * ld, -1, 1);
    Tensor x = upload_f32(backend(), xs, {M, K}), b = upload_f32(backend(), bs, {N});
    Tensor base = upload_f32(backend(), big, {2 * N, ld});
    // Rows 0..N-1, columns 0..K-1; rows N..2N-1, columns 16..16+K-1 (another start, the same row stride).
    Tensor top = view(base, {N, K}, {ld, 1}, 0), bottom = view(base, {N, K}, {ld, 1}, N * ld + 16);
    expect_linear(x, xs, top, column_slice(std::vector<float>(big.begin(), big.begin() + N * ld), N, ld, 0, K), b, bs, M,
                  N, K, "top view");
    expect_linear(x, xs, bottom, column_slice(std::vector<float>(big.begin() + N * ld, big.end()), N, ld, 16, K), b, bs,
                  M, N, K, "bottom view");
}

// Captured before any eager call: the capture may not allocate, so the graph reads fp32 weights; replays after
// an eager call (which makes the copy) keep doing so, and both agree with the reference.
TEST_P(CudaBf16Weights, GraphCapturedBeforeTheCopyExists) {
    const int64_t M = 256, N = 128, K = 128;
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Tensor x = upload_f32(backend(), xs, {M, K}), w = upload_f32(backend(), ws, {N, K}), b = upload_f32(backend(), bs, {N});
    Tensor y = new_tensor(backend(), DD_F32, {M, N});
    require_ok(dd_graph_begin(backend().device_type, backend().device_index), "dd_graph_begin");
    const dd_status op = dd_linear(x.get(), w.get(), b.get(), y.get());
    dd_graph* g = nullptr;
    require_ok(dd_graph_end(backend().device_type, &g), "dd_graph_end");
    ASSERT_EQ(op, DD_OK) << dd_last_error();
    require_ok(dd_graph_launch(g), "dd_graph_launch");
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, bs, M, N, K), bound(K))) << "replay";
    expect_linear(x, xs, w, ws, b, bs, M, N, K, "eager, after the capture");
    require_ok(dd_tensor_zero(y.get()), "dd_tensor_zero");
    require_ok(dd_graph_launch(g), "dd_graph_launch");
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, bs, M, N, K), bound(K))) << "replay after the copy";
    dd_graph_free(g);
}

// Captured after the copy exists, the graph reads it; rewriting the weights through the tensor API rounds the copy
// again in place, so a replay sees the new weights (as graphs see the fp32 ones), and the old copy is not freed
// under the graph.
TEST_P(CudaBf16Weights, GraphReplaysSeeRewrittenWeights) {
    const int64_t M = 256, N = 128, K = 64;
    auto xs = rng.uniform(M * K, -1, 1), w1 = rng.uniform(N * K, -1, 1), w2 = rng.uniform(N * K, -1, 1);
    auto bs = rng.uniform(N, -1, 1);
    Tensor x = upload_f32(backend(), xs, {M, K}), w = upload_f32(backend(), w1, {N, K}), b = upload_f32(backend(), bs, {N});
    Tensor y = new_tensor(backend(), DD_F32, {M, N});
    expect_linear(x, xs, w, w1, b, bs, M, N, K, "eager: makes the copy");
    require_ok(dd_graph_begin(backend().device_type, backend().device_index), "dd_graph_begin");
    const dd_status op = dd_linear(x.get(), w.get(), b.get(), y.get());
    dd_graph* g = nullptr;
    require_ok(dd_graph_end(backend().device_type, &g), "dd_graph_end");
    ASSERT_EQ(op, DD_OK) << dd_last_error();
    require_ok(dd_tensor_write(w.get(), w2.data(), (int64_t)(w2.size() * sizeof(float)), 0), "dd_tensor_write");
    require_ok(dd_graph_launch(g), "dd_graph_launch");
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, w2, bs, M, N, K), bound(K))) << "replay after the rewrite";
    dd_graph_free(g);
}

INSTANTIATE_TEST_SUITE_P(Backends, CudaBf16Weights,
                         testing::Values(Backend{"cuda0_bf16", DD_DEVICE_CUDA, 0, DD_PRECISION_BF16}),
                         [](const testing::TestParamInfo<Backend>& i) { return std::string(i.param.name); });

}  // namespace
