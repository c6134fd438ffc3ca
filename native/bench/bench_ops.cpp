// Native microbenchmarks of the ops on the CPU backend at DiT shapes (Google Benchmark).
// Counters: GFLOP/s (2 flops per multiply-accumulate) or GB/s for memory-bound ops.
//   target/cmake-build/dyndit_bench --benchmark_filter=linear
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "dyndit/dyndit.h"

namespace {

struct Tensor {
    dd_tensor* t = nullptr;
    Tensor(std::initializer_list<int64_t> shape, float std = 1.f) {
        std::vector<int64_t> s(shape);
        dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, (int)s.size(), s.data(), &t);
        std::mt19937 rng(42);
        std::normal_distribution<float> nd(0.f, std);
        float* p = static_cast<float*>(dd_tensor_data(t));
        for (int64_t i = 0; i < dd_tensor_numel(t); ++i) p[i] = nd(rng);
    }
    ~Tensor() { dd_tensor_free(t); }
};

// y[M,N] = x[M,K] W^T + b; M = batch * tokens. DiT-B/2 at batch 8: M = 2048, D = 768.
void BM_linear(benchmark::State& st) {
    const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
    Tensor x({M, K}), w({N, K}, 0.02f), b({N}), y({M, N});
    for (auto _ : st) dd_linear(x.t, w.t, b.t, y.t);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * N * K * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_linear)
    ->Args({2048, 2304, 768})   // DiT-B qkv
    ->Args({2048, 3072, 768})   // DiT-B fc1
    ->Args({2048, 768, 3072})   // DiT-B fc2
    ->Args({2, 4608, 768})      // DiT-B adaLN of one guided image (a GEMV: weight bandwidth)
    ->Args({2048, 1152, 1152})  // DiT-XL proj
    ->Args({512, 3072, 768})    // DiT-B fc1, one guided image (batch 2)
    ->Args({103, 3072, 768})    // the same on a token-cached step (20% of the rows)
    ->Args({103, 768, 3072})    // fc2 on a token-cached step
    ->Args({2048, 48, 768})     // DyDiT-B's token router, first layer (fp32 in every precision)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The conditioning's row-invariant linear beside oneDNN's (arg 3 = 1) at DiT-B/2's adaLN of every block (55296 x 768,
// 170 MB of fp32 weights): one guided image's 2 rows a step, 8 rows, and a 20-step window of 40 rows made at once.
void BM_adaln(benchmark::State& st) {
    const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
    Tensor x({M, K}), w({N, K}, 0.02f), b({N}), y({M, N});
    for (auto _ : st) st.range(3) ? dd_linear(x.t, w.t, b.t, y.t) : dd_linear_row_invariant(x.t, w.t, b.t, y.t);
    st.counters["weights GB/s"] = benchmark::Counter(4.0 * N * K * st.iterations() / 1e9, benchmark::Counter::kIsRate);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * N * K * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_adaln)->ArgsProduct({{2, 8, 40}, {55296}, {768}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

// The same product in bf16 (oneDNN bf16 matmul; the bf16 roofline the attention below compares with).
void BM_linear_bf16(benchmark::State& st) {
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) return st.SkipWithError(dd_last_error());
    BM_linear(st);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
}
BENCHMARK(BM_linear_bf16)->Args({2048, 3072, 768})->Unit(benchmark::kMillisecond)->UseRealTime();

// The bf16 forward's products: bf16 x (and arg 3 = 1: a bf16 y, else f32) with bf16 weights, DiT-B/2 batch 8 shapes
// (qkv into bf16; proj and fc2 into f32 for the residual; fc1 into bf16): against BM_linear_bf16's roofline.
void BM_linear_bf16_io(benchmark::State& st) {
    const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) return st.SkipWithError(dd_last_error());
    Tensor x32({M, K}), w({N, K}, 0.02f), b({N}), y32({M, N});
    dd_tensor *x = nullptr, *y16 = nullptr;
    const int64_t xs[2] = {M, K}, ys[2] = {M, N};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 2, xs, &x);
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 2, ys, &y16);
    dd_copy(x32.t, x);
    dd_tensor* y = st.range(3) ? y16 : y32.t;
    for (auto _ : st)
        if (dd_linear(x, w.t, b.t, y) != DD_OK) return st.SkipWithError(dd_last_error());
    dd_tensor_free(x);
    dd_tensor_free(y16);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * N * K * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_linear_bf16_io)
    ->Args({2048, 2304, 768, 1})->Args({2048, 768, 768, 0})->Args({2048, 3072, 768, 1})->Args({2048, 768, 3072, 0})
    ->Args({512, 1152, 4608, 0})->Args({512, 1152, 1152, 0})  // DiT-XL/2 batch 2: fc2, proj
    ->Args({512, 768, 3072, 0})  // DiT-B/2 batch 8 at patch 4: fc2
    ->Args({1024, 2304, 768, 1})->Args({1024, 768, 768, 0})  // DiffCR-B/2 b8 at 50% tokens: qkv, proj
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// The MLP half of a DiT block, h += gate * fc2(gelu(fc1(u))), at DiT-B batch 8 (N, T, D; hidden 4D):
// arg 3 = 0 the separate ops (linear, gelu, linear, gated add), 1 the fused epilogues with an f32 hidden,
// 2 the fused epilogues with a bf16 hidden (bf16 precision only). Arg 4: 1 = bf16 GEMM precision.
void BM_mlp(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2), form = st.range(3);
    const bool bf16 = st.range(4) != 0;
    if (bf16 && dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK)
        return st.SkipWithError(dd_last_error());
    Tensor u({N, T, D}), w1({4 * D, D}, 0.02f), b1({4 * D}), w2({D, 4 * D}, 0.02f), b2({D}), gate({N, D});
    Tensor h({N, T, D}), hid({N, T, 4 * D}), tmp({N, T, D});
    dd_tensor* hid16 = nullptr;
    const int64_t hs[3] = {N, T, 4 * D};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 3, hs, &hid16);
    dd_copy(hid.t, hid16);
    for (auto _ : st) {
        if (form == 0) {
            dd_linear(u.t, w1.t, b1.t, hid.t);
            dd_gelu_tanh(hid.t, hid.t);
            dd_linear(hid.t, w2.t, b2.t, tmp.t);
            dd_gated_residual_add(h.t, gate.t, tmp.t);
        } else {
            dd_tensor* mid = form == 2 ? hid16 : hid.t;
            if (dd_linear_gelu(u.t, w1.t, b1.t, mid) != DD_OK) return st.SkipWithError(dd_last_error());
            if (dd_linear_gated_residual(mid, w2.t, b2.t, gate.t, h.t) != DD_OK) return st.SkipWithError(dd_last_error());
        }
    }
    dd_tensor_free(hid16);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * N * T * D * 8 * D * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_mlp)
    ->Args({8, 256, 768, 0, 0})->Args({8, 256, 768, 1, 0})
    ->Args({8, 256, 768, 0, 1})->Args({8, 256, 768, 1, 1})->Args({8, 256, 768, 2, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// Each half of BM_mlp alone (arg 2: 1 = bf16 precision): arg 1 = 0 fc1 then gelu, 1 fc1 with the GELU post-op (f32 out), 2 the same
// with a bf16 out; 3 fc2 into scratch then the gated add, 4 fc2 with the gated-residual post-ops, 5 the same from a
// bf16 hidden.
void BM_mlp_part(benchmark::State& st) {
    const int64_t M = st.range(0), form = st.range(1), D = 768, N = M / 256;
    if (dd_set_gemm_precision(DD_DEVICE_CPU, st.range(2) ? DD_PRECISION_BF16 : DD_PRECISION_FP32) != DD_OK)
        return st.SkipWithError(dd_last_error());
    Tensor u({N, 256, D}), w1({4 * D, D}, 0.02f), b1({4 * D}), w2({D, 4 * D}, 0.02f), b2({D}), gate({N, D});
    Tensor h({N, 256, D}), hid({N, 256, 4 * D}), tmp({N, 256, D});
    dd_tensor* hid16 = nullptr;
    const int64_t hs[3] = {N, 256, 4 * D};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 3, hs, &hid16);
    dd_copy(hid.t, hid16);  // real values (an untouched buffer would read the zero page)
    for (auto _ : st) {
        dd_status s = DD_OK;
        if (form == 0) s = dd_linear(u.t, w1.t, b1.t, hid.t), dd_gelu_tanh(hid.t, hid.t);
        if (form == 1) s = dd_linear_gelu(u.t, w1.t, b1.t, hid.t);
        if (form == 2) s = dd_linear_gelu(u.t, w1.t, b1.t, hid16);
        if (form == 3) s = dd_linear(hid.t, w2.t, b2.t, tmp.t), dd_gated_residual_add(h.t, gate.t, tmp.t);
        if (form == 4) s = dd_linear_gated_residual(hid.t, w2.t, b2.t, gate.t, h.t);
        if (form == 5) s = dd_linear_gated_residual(hid16, w2.t, b2.t, gate.t, h.t);
        if (s != DD_OK) return st.SkipWithError(dd_last_error());
    }
    dd_tensor_free(hid16);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * D * 4 * D * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_mlp_part)->ArgsProduct({{2048}, {0, 1, 2, 3, 4, 5}, {0, 1}})->Unit(benchmark::kMillisecond)->UseRealTime();

// DyDiT's width-sliced MLP at half width (6 of 12 groups of DiT-B, one run of 1536 hidden columns), batch 8, bf16
// activations (arg 1: 1 = bf16 precision; 0 = fp32 with f32 activations): arg 0 = 0 fc1 out-blocks then the GELU,
// 1 dd_linear_out_blocks_gelu; 2 fc2 in-blocks into a scratch then the gated add, 3 dd_linear_in_blocks_gated_residual.
void BM_sliced_mlp_part(benchmark::State& st) {
    const int64_t form = st.range(0), D = 768, N = 8, T = 256, H = 2 * D;
    const bool bf16 = st.range(1) != 0;
    if (dd_set_gemm_precision(DD_DEVICE_CPU, bf16 ? DD_PRECISION_BF16 : DD_PRECISION_FP32) != DD_OK)
        return st.SkipWithError(dd_last_error());
    Tensor w1({4 * D, D}, 0.02f), b1({4 * D}), w2({D, 4 * D}, 0.02f), b2({D}), gate({N, D}), h({N, T, D}), tmp({N, T, D});
    Tensor u32({N, T, D}), hid32({N, T, H});
    dd_tensor *u16 = nullptr, *hid16 = nullptr;
    const int64_t us[3] = {N, T, D}, hs[3] = {N, T, H};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 3, us, &u16);
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 3, hs, &hid16);
    dd_copy(u32.t, u16);
    dd_copy(hid32.t, hid16);
    dd_tensor* u = bf16 ? u16 : u32.t;
    dd_tensor* hid = bf16 ? hid16 : hid32.t;
    const int64_t blocks[2] = {0, H};
    for (auto _ : st) {
        dd_status s = DD_OK;
        if (form == 0) s = dd_linear_out_blocks(u, w1.t, b1.t, blocks, 1, hid), s = s ? s : dd_gelu_tanh(hid, hid);
        if (form == 1) s = dd_linear_out_blocks_gelu(u, w1.t, b1.t, blocks, 1, hid);
        if (form == 2)
            s = dd_linear_in_blocks(hid, w2.t, b2.t, blocks, 1, tmp.t), s = s ? s : dd_gated_residual_add(h.t, gate.t, tmp.t);
        if (form == 3) s = dd_linear_in_blocks_gated_residual(hid, w2.t, b2.t, blocks, 1, gate.t, h.t);
        if (s != DD_OK) return st.SkipWithError(dd_last_error());
    }
    dd_tensor_free(u16);
    dd_tensor_free(hid16);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * N * T * D * H * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_sliced_mlp_part)->ArgsProduct({{0, 1, 2, 3}, {1, 0}})->Unit(benchmark::kMillisecond)->UseRealTime();

// fc1 alone: y = x W^T + b (arg 3 = 0) or gelu(x W^T + b) by dd_linear_gelu (1); arg 4: 1 = bf16 precision.
void BM_fc1(benchmark::State& st) {
    const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
    if (dd_set_gemm_precision(DD_DEVICE_CPU, st.range(4) ? DD_PRECISION_BF16 : DD_PRECISION_FP32) != DD_OK)
        return st.SkipWithError(dd_last_error());
    Tensor x({M, K}), w({N, K}, 0.02f), b({N}), y({M, N});
    for (auto _ : st) (st.range(3) ? dd_linear_gelu : dd_linear)(x.t, w.t, b.t, y.t);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] = benchmark::Counter(2.0 * M * N * K * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_fc1)->ArgsProduct({{2048}, {3072}, {768}, {0, 1}, {0, 1}})
    ->ArgsProduct({{512}, {4608}, {1152}, {0, 1}, {0, 1}})->ArgsProduct({{103}, {3072}, {768}, {0, 1}, {0, 1}})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// softmax(q k^T / sqrt(dh)) v over [N,T,H,Dh]
void BM_attention(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), H = st.range(2), Dh = st.range(3);
    Tensor q({N, T, H, Dh}), k({N, T, H, Dh}), v({N, T, H, Dh}), o({N, T, H, Dh});
    for (auto _ : st) dd_attention(q.t, k.t, v.t, 0.125f, o.t);
    st.counters["GFLOP/s"] =
        benchmark::Counter(4.0 * N * H * T * T * Dh * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}

// In bf16 GEMM precision: Q K^T and P V as oneDNN bf16 matmuls, softmax in fp32.
void BM_attention_bf16(benchmark::State& st) {
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) return st.SkipWithError(dd_last_error());
    BM_attention(st);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
}
BENCHMARK(BM_attention_bf16)->Args({8, 256, 12, 64})->Args({8, 128, 12, 64})->Args({8, 64, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();
// The same with bf16 q, k, v (views of one packed [N,T,3,H,Dh] qkv, as the qkv linear writes it) and a bf16 out:
// the CPU's bf16 forward, no rounding copies.
void BM_attention_bf16_io(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), H = st.range(2), Dh = st.range(3), D = H * Dh;
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) return st.SkipWithError(dd_last_error());
    Tensor qkv32({N, T, 3, H, Dh});
    dd_tensor *qkv = nullptr, *o = nullptr, *part[3] = {};
    const int64_t qkv_shape[] = {N, T, 3, H, Dh}, shape[] = {N, T, H, Dh}, strides[] = {T * 3 * D, 3 * D, Dh, 1};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 5, qkv_shape, &qkv);
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 4, shape, &o);
    dd_copy(qkv32.t, qkv);
    for (int s = 0; s < 3; ++s) dd_tensor_view(qkv, 4, shape, strides, s * D, &part[s]);
    for (auto _ : st) dd_attention(part[0], part[1], part[2], 0.125f, o);
    for (dd_tensor* t : {part[0], part[1], part[2], o, qkv}) dd_tensor_free(t);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
    st.counters["GFLOP/s"] =
        benchmark::Counter(4.0 * N * H * T * T * Dh * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_attention_bf16_io)->Args({8, 256, 12, 64})->Args({8, 128, 12, 64})->Args({8, 64, 12, 64})->Args({8, 32, 12, 64})->Args({8, 16, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();
// column sums of softmax(q k^T * scale) over queries and heads (token caching's importance, once per full step)
void BM_attention_key_mass(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), H = st.range(2), Dh = st.range(3);
    Tensor q({N, T, H, Dh}), k({N, T, H, Dh}), m({N, T});
    for (auto _ : st) dd_attention_key_mass(q.t, k.t, 0.125f, m.t);
    st.counters["GFLOP/s"] =
        benchmark::Counter(2.0 * N * H * T * T * Dh * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
// attention and its key mass from the same probabilities (a token-cached block's full step)
void BM_attention_with_key_mass(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), H = st.range(2), Dh = st.range(3);
    Tensor q({N, T, H, Dh}), k({N, T, H, Dh}), v({N, T, H, Dh}), o({N, T, H, Dh}), m({N, T});
    for (auto _ : st) dd_attention_with_key_mass(q.t, k.t, v.t, 0.125f, o.t, m.t, nullptr);
    st.counters["GFLOP/s"] =
        benchmark::Counter(4.0 * N * H * T * T * Dh * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
// A token-cached step's attention: the chosen queries [N,k] (a fresh packed qkv) against every token's keys and values
// in the cache of one of 12 blocks in turn (as a step visits them: out of L2, rows 3D apart).
void BM_attention_cached_kv(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), k = st.range(2), H = 12, Dh = 64, D = H * Dh, blocks = 12;
    Tensor qkv({N, k, 3 * D}), o({N, k, H, Dh});
    std::vector<Tensor*> caches;
    for (int64_t i = 0; i < blocks; ++i) caches.push_back(new Tensor({N, T, 3 * D}));
    auto view = [&](dd_tensor* base, int64_t rows, int64_t off) {
        dd_tensor* v = nullptr;
        const int64_t shape[4] = {N, rows, H, Dh}, strides[4] = {rows * 3 * D, 3 * D, Dh, 1};
        dd_tensor_view(base, 4, shape, strides, off, &v);
        return v;
    };
    dd_tensor* q = view(qkv.t, k, 0);
    std::vector<dd_tensor*> ks, vs;
    for (Tensor* c : caches) ks.push_back(view(c->t, T, D)), vs.push_back(view(c->t, T, 2 * D));
    int64_t i = 0;
    for (auto _ : st) {
        dd_attention(q, ks[i], vs[i], 0.125f, o.t);
        i = (i + 1) % blocks;
    }
    st.counters["GFLOP/s"] =
        benchmark::Counter(4.0 * N * H * k * T * Dh * st.iterations() / 1e9, benchmark::Counter::kIsRate);
    dd_tensor_free(q);
    for (int64_t j = 0; j < blocks; ++j) dd_tensor_free(ks[j]), dd_tensor_free(vs[j]), delete caches[j];
}
BENCHMARK(BM_attention_cached_kv)->Args({2, 256, 64})->Args({2, 256, 52})->Unit(benchmark::kMicrosecond)->UseRealTime();

BENCHMARK(BM_attention_with_key_mass)->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_attention_key_mass)->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_attention)->Args({8, 256, 12, 64})->Args({8, 128, 12, 64})->Args({8, 64, 12, 64})->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();

// arg 3: 1 = a bf16 y (the bf16 forward's LayerNorm, read by the next linear as it is)
void BM_layernorm_modulate(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2);
    Tensor x({N, T, D}), sh({N, D}), sc({N, D}), y({N, T, D});
    dd_tensor* y16 = nullptr;
    const int64_t ys[3] = {N, T, D};
    dd_tensor_new(DD_DEVICE_CPU, 0, DD_BF16, 3, ys, &y16);
    for (auto _ : st) dd_layernorm_modulate(x.t, sh.t, sc.t, 1e-6f, st.range(3) ? y16 : y.t);
    dd_tensor_free(y16);
    st.counters["GB/s"] = benchmark::Counter((st.range(3) ? 6.0 : 8.0) * N * T * D * st.iterations() / 1e9,
                                             benchmark::Counter::kIsRate);
}
BENCHMARK(BM_layernorm_modulate)->Args({8, 256, 768, 0})->Args({8, 256, 768, 1})->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_gelu_tanh(benchmark::State& st) {
    const int64_t n = st.range(0);
    Tensor x({n}), y({n});
    for (auto _ : st) dd_gelu_tanh(x.t, y.t);
    st.counters["GB/s"] = benchmark::Counter(8.0 * n * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_gelu_tanh)->Arg(2048 * 3072)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
