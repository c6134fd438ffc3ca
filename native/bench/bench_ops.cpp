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
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

// The same product in bf16 (oneDNN bf16 matmul; the bf16 roofline the attention below compares with).
void BM_linear_bf16(benchmark::State& st) {
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) return st.SkipWithError(dd_last_error());
    BM_linear(st);
    dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
}
BENCHMARK(BM_linear_bf16)->Args({2048, 3072, 768})->Unit(benchmark::kMillisecond)->UseRealTime();

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
BENCHMARK(BM_attention_with_key_mass)->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_attention_key_mass)->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_attention)->Args({8, 256, 12, 64})->Args({8, 128, 12, 64})->Args({8, 64, 12, 64})->Args({2, 256, 12, 64})->Args({2, 256, 16, 72})->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_layernorm_modulate(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2);
    Tensor x({N, T, D}), sh({N, D}), sc({N, D}), y({N, T, D});
    for (auto _ : st) dd_layernorm_modulate(x.t, sh.t, sc.t, 1e-6f, y.t);
    st.counters["GB/s"] = benchmark::Counter(8.0 * N * T * D * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_layernorm_modulate)->Args({8, 256, 768})->Unit(benchmark::kMicrosecond)->UseRealTime();

void BM_gelu_tanh(benchmark::State& st) {
    const int64_t n = st.range(0);
    Tensor x({n}), y({n});
    for (auto _ : st) dd_gelu_tanh(x.t, y.t);
    st.counters["GB/s"] = benchmark::Counter(8.0 * n * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_gelu_tanh)->Arg(2048 * 3072)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
