// Microbenchmarks of the CUDA kernels in cuda-kernels/ at DiT-XL/2 shapes (Google Benchmark, GPU time).
// Host C++: calls the kernels' host entries (cuda-kernels/*.cuh) directly, no libdyndit.
//   dyndit_cuda_bench --benchmark_filter=linear
//
// Every benchmark allocates and randomly fills its device buffers once (cached across the calls Google
// Benchmark makes for one benchmark instance), warms up with one untimed launch, then times each launch
// with a pair of cudaEvents on its own stream (UseManualTime: the reported time is GPU time only).
// Every launch's cudaError_t is checked (SkipWithError names the kernel and cudaGetErrorString).
// Counters (per benchmark, from the GPU time):
//   TFLOP/s       2 * multiply-accumulates / time (compute kernels)
//   peak_TFLOP/s  the device peak for the unit the kernel uses (TF32 or BF16 tensor cores, FP32 cores)
//   GB/s          minimum bytes moved (inputs read once + outputs written once) / time
//   peak_GB/s     device DRAM bandwidth
//   %roof         roofline time / measured time * 100, roofline time = max(flops / peak, bytes / DRAM)
// Without a usable GPU the binary prints "dyndit_cuda_bench: SKIPPED: <CUDA error>" and exits 0.
#include <benchmark/benchmark.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "attention_varlen.cuh"
#include "gated_residual.cuh"
#include "gemm_tf32.cuh"
#include "layernorm_modulate.cuh"
#include "mma_gemm_bf16.cuh"
#include "sampler_update.cuh"
#include "token_select.cuh"
#include "topk_rows.cuh"
#include "vae_conv2d.cuh"
#include "vae_group_norm.cuh"

namespace ck = dd::cuda_kernels;

namespace {

// ---------------------------------------------------------------------------------------------------------
// Device roofline

enum class Unit { kTf32, kBf16, kFp32, kNone };

struct Roofline {
    double tf32_tflops = 0, bf16_tflops = 0, fp32_tflops = 0, dram_gbs = 0;  // 0: unknown
    std::string compute_source, memory_source;
};
Roofline g_roof;

double peak_tflops(Unit u) {
    switch (u) {
        case Unit::kTf32: return g_roof.tf32_tflops;
        case Unit::kBf16: return g_roof.bf16_tflops;
        case Unit::kFp32: return g_roof.fp32_tflops;
        default: return 0;
    }
}

// Dense tensor-core FLOP per clock per SM (TF32; BF16 is twice that) and FP32 FLOP per clock per SM
// (2 x FP32 lanes), by compute capability. Data-center parts; GeForce sm_86 / sm_89 run TF32 at half rate.
bool per_sm_rates(int cc, double& tf32, double& fp32) {
    switch (cc) {
        case 80: tf32 = 1024; fp32 = 128; return true;   // A100
        case 86: tf32 = 512; fp32 = 256; return true;    // A10 / A40 / RTX A6000
        case 87: tf32 = 512; fp32 = 256; return true;    // Orin
        case 89: tf32 = 512; fp32 = 256; return true;    // L4 / L40S
        case 90: tf32 = 2048; fp32 = 256; return true;   // H100 / H200
        case 100: tf32 = 4096; fp32 = 256; return true;  // B200
        default: return false;
    }
}

// Datasheet fallback when the clocks cannot be read: {TF32 dense, FP32, DRAM GB/s}.
bool table_peaks(int cc, double& tf32, double& fp32, double& dram, const char*& name) {
    if (cc == 80) { tf32 = 156; fp32 = 19.5; dram = 2039; name = "A100 SXM 80GB datasheet"; return true; }
    if (cc == 90) { tf32 = 495; fp32 = 67; dram = 3350; name = "H100 SXM datasheet"; return true; }
    return false;
}

int attr(cudaDeviceAttr a, int dev) {
    int v = 0;
    if (cudaDeviceGetAttribute(&v, a, dev) != cudaSuccess) {
        cudaGetLastError();  // clear
        return 0;
    }
    return v;
}

std::string fmt(const char* f, double a, double b = 0, double c = 0, double d = 0) {
    char buf[256];
    std::snprintf(buf, sizeof buf, f, a, b, c, d);
    return buf;
}

void compute_roofline(int dev) {
    const int sms = attr(cudaDevAttrMultiProcessorCount, dev);
    const int major = attr(cudaDevAttrComputeCapabilityMajor, dev);
    const int minor = attr(cudaDevAttrComputeCapabilityMinor, dev);
    const int cc = major * 10 + minor;
    const int clock_khz = attr(cudaDevAttrClockRate, dev);
    const int mem_khz = attr(cudaDevAttrMemoryClockRate, dev);
    const int bus_bits = attr(cudaDevAttrGlobalMemoryBusWidth, dev);
    double tf32_sm = 0, fp32_sm = 0, t_tf32 = 0, t_fp32 = 0, t_dram = 0;
    const char* tname = nullptr;
    const bool have_rates = per_sm_rates(cc, tf32_sm, fp32_sm);
    const bool have_table = table_peaks(cc, t_tf32, t_fp32, t_dram, tname);

    if (have_rates && sms > 0 && clock_khz > 0) {
        const double ghz = clock_khz * 1e-6;
        g_roof.tf32_tflops = sms * tf32_sm * ghz * 1e-3;
        g_roof.fp32_tflops = sms * fp32_sm * ghz * 1e-3;
        g_roof.compute_source = fmt("cudaDeviceGetAttribute: %.0f SMs x %.0f MHz max clock", sms, clock_khz * 1e-3);
    } else if (have_table) {
        g_roof.tf32_tflops = t_tf32;
        g_roof.fp32_tflops = t_fp32;
        g_roof.compute_source = std::string("table (") + tname + (clock_khz > 0 ? ")" : ", SM clock unavailable)");
    } else {
        g_roof.compute_source = fmt("unknown (no per-SM rates for sm_%.0f)", cc);
    }
    g_roof.bf16_tflops = 2 * g_roof.tf32_tflops;

    if (mem_khz > 0 && bus_bits > 0) {
        g_roof.dram_gbs = 2.0 * mem_khz * 1e3 * (bus_bits / 8.0) * 1e-9;  // double data rate
        g_roof.memory_source =
            fmt("cudaDeviceGetAttribute: %.0f MHz memory clock x %.0f-bit bus x 2", mem_khz * 1e-3, bus_bits);
    } else if (have_table) {
        g_roof.dram_gbs = t_dram;
        g_roof.memory_source = std::string("table (") + tname + ", memory clock unavailable)";
    } else {
        g_roof.memory_source = "unknown (memory clock unavailable)";
    }
}

// ---------------------------------------------------------------------------------------------------------
// Device buffers, cached per benchmark instance

struct Cache {
    std::string key;
    std::vector<void*> bufs;
    void clear() {
        for (void* p : bufs) cudaFree(p);
        bufs.clear();
        key.clear();
    }
};
Cache g_cache;

// Hands out the buffers of one benchmark instance: the same key gets the same buffers (same order of
// requests) without reallocating or refilling; a new key frees the previous instance's buffers.
class Buffers {
public:
    Buffers(benchmark::State& st, const std::string& key, int nargs) : st_(st) {
        std::string k = key;
        for (int i = 0; i < nargs; ++i) k += "/" + std::to_string(st.range(i));
        if (g_cache.key != k) {
            g_cache.clear();
            g_cache.key = k;
        }
    }
    bool ok() const { return ok_; }

    float* f32(size_t n, float lo = -1.f, float hi = 1.f) {
        return get<float>(n, [&](std::vector<float>& h, std::mt19937& rng) {
            std::uniform_real_distribution<float> d(lo, hi);
            for (float& v : h) v = d(rng);
        });
    }
    __nv_bfloat16* bf16(size_t n, float lo = -1.f, float hi = 1.f) {  // bf16 bits, round to nearest even
        uint16_t* p = get<uint16_t>(n, [&](std::vector<uint16_t>& h, std::mt19937& rng) {
            std::uniform_real_distribution<float> d(lo, hi);
            for (uint16_t& v : h) {
                const float f = d(rng);
                uint32_t u;
                std::memcpy(&u, &f, 4);
                v = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
            }
        });
        return reinterpret_cast<__nv_bfloat16*>(p);
    }
    int32_t* i32(const std::vector<int32_t>& values) {
        return get<int32_t>(values.size(), [&](std::vector<int32_t>& h, std::mt19937&) { h = values; });
    }

private:
    template <class T, class F>
    T* get(size_t n, F fill) {
        if (!ok_) return nullptr;
        if (idx_ < g_cache.bufs.size()) return static_cast<T*>(g_cache.bufs[idx_++]);
        void* p = nullptr;
        cudaError_t e = cudaMalloc(&p, std::max<size_t>(n, 1) * sizeof(T));
        if (e == cudaSuccess) {
            std::vector<T> h(n);
            std::mt19937 rng(1234u + (unsigned)idx_);
            fill(h, rng);
            e = cudaMemcpy(p, h.data(), n * sizeof(T), cudaMemcpyHostToDevice);
            g_cache.bufs.push_back(p);
            ++idx_;
        }
        if (e != cudaSuccess) {
            ok_ = false;
            st_.SkipWithError((std::string("buffer setup: ") + cudaGetErrorString(e)).c_str());
            g_cache.clear();
            return nullptr;
        }
        return static_cast<T*>(p);
    }
    benchmark::State& st_;
    size_t idx_ = 0;
    bool ok_ = true;
};

// ---------------------------------------------------------------------------------------------------------
// Timing

struct Gpu {
    cudaStream_t stream = nullptr;
    cudaEvent_t start = nullptr, stop = nullptr;
};
Gpu g_gpu;

void fail(benchmark::State& st, const char* kernel, const char* what, cudaError_t e) {
    st.SkipWithError((std::string(kernel) + ": " + what + ": " + cudaGetErrorString(e)).c_str());
}

// Runs launch(stream) once untimed, then once per iteration between two events. Sets the counters from
// flops / bytes per launch. False after an error (already reported).
template <class Launch>
bool run_timed(benchmark::State& st, const char* kernel, double flops, double bytes, Unit unit, Launch&& launch) {
    if (st.error_occurred()) return false;
    cudaError_t e = launch(g_gpu.stream);
    if (e != cudaSuccess) return fail(st, kernel, "launch", e), false;
    if ((e = cudaStreamSynchronize(g_gpu.stream)) != cudaSuccess) return fail(st, kernel, "execution", e), false;
    double total_s = 0;
    for (auto _ : st) {
        if ((e = cudaEventRecord(g_gpu.start, g_gpu.stream)) != cudaSuccess) {
            fail(st, kernel, "cudaEventRecord", e);
            break;
        }
        if ((e = launch(g_gpu.stream)) != cudaSuccess) {
            fail(st, kernel, "launch", e);
            break;
        }
        if ((e = cudaEventRecord(g_gpu.stop, g_gpu.stream)) != cudaSuccess) {
            fail(st, kernel, "cudaEventRecord", e);
            break;
        }
        if ((e = cudaEventSynchronize(g_gpu.stop)) != cudaSuccess) {
            fail(st, kernel, "execution", e);
            break;
        }
        float ms = 0;
        if ((e = cudaEventElapsedTime(&ms, g_gpu.start, g_gpu.stop)) != cudaSuccess) {
            fail(st, kernel, "cudaEventElapsedTime", e);
            break;
        }
        st.SetIterationTime(ms * 1e-3);
        total_s += ms * 1e-3;
    }
    if (st.error_occurred() || st.iterations() == 0 || total_s <= 0) return false;
    const double t = total_s / (double)st.iterations();
    const double peak_f = peak_tflops(unit), peak_b = g_roof.dram_gbs;
    if (flops > 0) {
        st.counters["TFLOP/s"] = flops / t * 1e-12;
        if (peak_f > 0) st.counters["peak_TFLOP/s"] = peak_f;
    }
    st.counters["GB/s"] = bytes / t * 1e-9;
    if (flops <= 0 && peak_b > 0) st.counters["peak_GB/s"] = peak_b;
    const bool compute_known = flops <= 0 || peak_f > 0, memory_known = peak_b > 0;
    if (compute_known && memory_known) {
        const double roof_t = std::max(flops > 0 ? flops / (peak_f * 1e12) : 0.0, bytes / (peak_b * 1e9));
        st.counters["%roof"] = 100.0 * roof_t / t;
    }
    return true;
}

std::vector<int32_t> random_subset(int64_t n, int64_t k, unsigned seed) {  // k distinct, ascending
    std::vector<int32_t> all((size_t)n);
    for (int64_t i = 0; i < n; ++i) all[(size_t)i] = (int32_t)i;
    std::mt19937 rng(seed);
    std::shuffle(all.begin(), all.end(), rng);
    all.resize((size_t)k);
    std::sort(all.begin(), all.end());
    return all;
}

// ---------------------------------------------------------------------------------------------------------
// GEMMs. DiT-XL/2: D = 1152, MLP 4608, M = batch 8 x 256 tokens = 2048 (4096 with CFG).

constexpr int64_t kD = 1152, kHeads = 16, kDh = 72, kMlp = 4608, kTok = 256;

// Args: M, N, K, precision (0 tf32, 1 fp32, 2 bf16 operands), epilogue (0 store, 1 gelu, 2 gated residual).
void BM_linear(benchmark::State& st) {
    const int M = (int)st.range(0), N = (int)st.range(1), K = (int)st.range(2);
    const int prec = (int)st.range(3);
    const auto epi = (ck::GemmEpilogue)st.range(4);
    Buffers b(st, "linear", 5);
    float* x = b.f32((size_t)M * K);
    float* w = b.f32((size_t)N * K, -0.03f, 0.03f);
    float* bias = b.f32(N);
    float* y = b.f32((size_t)M * N);
    const int per_sample = std::max(1, M / 8);
    float* gate = b.f32((size_t)((M + per_sample - 1) / per_sample) * N, -0.1f, 0.1f);
    if (!b.ok()) return;
    ck::LinearArgs a{x, K, w, K, bias, y, N, M};
    a.epilogue = epi;
    a.gate = gate;
    a.gate_rs = N;
    a.rows_per_sample = per_sample;
    static const ck::GemmPrecision kPrec[3] = {ck::GemmPrecision::kTf32, ck::GemmPrecision::kFp32,
                                               ck::GemmPrecision::kBf16};
    static const char* const kName[3] = {"linear(tf32)", "linear(fp32)", "linear(bf16)"};
    static const Unit kUnit[3] = {Unit::kTf32, Unit::kFp32, Unit::kBf16};
    a.precision = kPrec[prec];
    const double y_bytes = (epi == ck::GemmEpilogue::kGatedResidual ? 2.0 : 1.0) * M * N * 4;
    const double bytes = 4.0 * ((double)M * K + (double)N * K) + y_bytes;
    run_timed(st, kName[prec], 2.0 * M * N * K, bytes, kUnit[prec],
              [&](cudaStream_t s) { return ck::linear(a, N, K, s); });
}
BENCHMARK(BM_linear)
    ->ArgNames({"M", "N", "K", "prec", "epi"})
    ->Args({2048, 3 * kD, kD, 0, 0})    // qkv
    ->Args({2048, kD, kD, 0, 0})        // attention proj
    ->Args({2048, kMlp, kD, 0, 1})      // fc1 + GELU
    ->Args({2048, kD, kMlp, 0, 2})      // fc2 + gated residual
    ->Args({8, 6 * kD, kD, 0, 0})       // adaLN modulation GEMV
    ->Args({4096, 3 * kD, kD, 0, 0})    // qkv, CFG batch
    ->Args({4096, kMlp, kD, 0, 1})      // fc1, CFG batch
    ->Args({2048, 3 * kD, kD, 1, 0})    // qkv fp32
    ->Args({2048, kMlp, kD, 1, 1})      // fc1 fp32
    ->Args({2048, 3 * kD, kD, 2, 0})    // qkv, bf16-rounded operands
    ->Args({2048, kMlp, kD, 2, 1})      // fc1, bf16-rounded operands
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// The bf16 forward's linears: W from its bf16 copy (LinearArgs::w16) and bf16 activations (x16 and y16; y stays fp32
// for the gated residual). Args: M, N, K, epilogue (0 store, 1 gelu, 2 gated residual), bf16 x, bf16 y.
void BM_linear_bf16_io(benchmark::State& st) {
    const int M = (int)st.range(0), N = (int)st.range(1), K = (int)st.range(2);
    const auto epi = (ck::GemmEpilogue)st.range(3);
    const bool x16 = st.range(4) == 1, y16 = st.range(5) == 1;
    Buffers b(st, "linear_bf16_io", 6);
    float* x = x16 ? nullptr : b.f32((size_t)M * K);
    __nv_bfloat16* xb = x16 ? b.bf16((size_t)M * K) : nullptr;
    float* w = b.f32((size_t)N * K, -0.03f, 0.03f);
    __nv_bfloat16* wb = b.bf16((size_t)N * K, -0.03f, 0.03f);
    float* bias = b.f32(N);
    float* y = y16 ? nullptr : b.f32((size_t)M * N);
    __nv_bfloat16* yb = y16 ? b.bf16((size_t)M * N) : nullptr;
    const int per_sample = std::max(1, M / 8);
    float* gate = b.f32((size_t)((M + per_sample - 1) / per_sample) * N, -0.1f, 0.1f);
    if (!b.ok()) return;
    ck::LinearArgs a{x, K, w, K, bias, y, N, M};
    a.x16 = reinterpret_cast<const uint16_t*>(xb);
    a.y16 = reinterpret_cast<uint16_t*>(yb);
    a.w16 = reinterpret_cast<const uint16_t*>(wb);
    a.w16_rs = K;
    a.epilogue = epi;
    a.gate = gate;
    a.gate_rs = N;
    a.rows_per_sample = per_sample;
    a.precision = ck::GemmPrecision::kBf16;
    const double y_bytes = (epi == ck::GemmEpilogue::kGatedResidual ? 2.0 : 1.0) * M * N * (y16 ? 2 : 4);
    const double bytes = (x16 ? 2.0 : 4.0) * M * K + 2.0 * N * K + y_bytes;
    run_timed(st, "linear(bf16 weights and activations)", 2.0 * M * N * K, bytes, Unit::kBf16,
              [&](cudaStream_t s) { return ck::linear(a, N, K, s); });
}
BENCHMARK(BM_linear_bf16_io)
    ->ArgNames({"M", "N", "K", "epi", "x16", "y16"})
    ->Args({4096, 3 * kD, kD, 0, 0, 1})  // qkv into bf16 (CFG batch)
    ->Args({4096, kD, kD, 2, 1, 0})      // proj from bf16 attn + gated residual
    ->Args({4096, kMlp, kD, 1, 0, 1})    // fc1 + GELU into a bf16 hidden
    ->Args({4096, kD, kMlp, 2, 1, 0})    // fc2 from the bf16 hidden + gated residual
    ->Args({4096, kMlp, kD, 0, 0, 0})    // fc1 shape, fp32 activations (the comparison)
    ->Args({4096, kMlp, kD, 0, 1, 1})    // fc1 shape, bf16 in and out
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// DyDiT width slicing with half the blocks kept. Args: M, N, K, blocks, sliced side (0 out, 1 in).
// out: W rows in `blocks` equal blocks, every other one kept (y is half as wide);
// in: W columns likewise (x holds the kept columns back to back).
void BM_linear_blocks(benchmark::State& st) {
    const int M = (int)st.range(0), N = (int)st.range(1), K = (int)st.range(2), nb = (int)st.range(3);
    const bool in = st.range(4) == 1;
    const int dim = in ? K : N, len = dim / nb;
    std::vector<int64_t> blocks;
    for (int i = 0; i < nb; i += 2) blocks.insert(blocks.end(), {(int64_t)i * len, (int64_t)len});
    const int kept_blocks = (int)blocks.size() / 2, kept = kept_blocks * len;
    const int xk = in ? kept : K, yn = in ? N : kept;
    Buffers b(st, "linear_blocks", 5);
    float* x = b.f32((size_t)M * xk);
    float* w = b.f32((size_t)N * K, -0.03f, 0.03f);
    float* bias = b.f32(N);
    float* y = b.f32((size_t)M * yn);
    if (!b.ok()) return;
    ck::LinearArgs a{x, xk, w, K, bias, y, yn, M};
    const double wn = in ? N : kept, wk = in ? kept : K;
    const char* name = in ? "linear_in_blocks" : "linear_out_blocks";
    run_timed(st, name, 2.0 * M * wn * wk, 4.0 * ((double)M * xk + wn * wk + (double)M * yn), Unit::kTf32,
              [&](cudaStream_t s) {
                  return in ? ck::linear_in_blocks(a, blocks.data(), kept_blocks, N, K, s)
                            : ck::linear_out_blocks(a, blocks.data(), kept_blocks, N, K, s);
              });
}
BENCHMARK(BM_linear_blocks)
    ->ArgNames({"M", "N", "K", "blocks", "in"})
    ->Args({2048, 3 * kD, kD, 3 * kHeads, 0})  // qkv, half the heads (24 of 48 head blocks of 72)
    ->Args({2048, kMlp, kD, 16, 0})            // fc1, 8 of 16 channel groups of 288
    ->Args({2048, kD, kMlp, 16, 1})            // fc2 on the kept 8 groups
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// C[M,N] = A[M,K] B^T (+bias), bf16 in, fp32 out. Args: M, N, K, b_is_nk.
void BM_gemm_bf16(benchmark::State& st) {
    const int M = (int)st.range(0), N = (int)st.range(1), K = (int)st.range(2);
    const bool nk = st.range(3) == 1;
    Buffers b(st, "gemm_bf16", 4);
    __nv_bfloat16* A = b.bf16((size_t)M * K);
    __nv_bfloat16* B = b.bf16((size_t)N * K, -0.03f, 0.03f);
    float* bias = b.f32(N);
    float* C = b.f32((size_t)M * N);
    if (!b.ok()) return;
    run_timed(st, "gemm_bf16", 2.0 * M * N * K, 2.0 * ((double)M * K + (double)N * K) + 4.0 * ((double)M * N + N),
              Unit::kBf16, [&](cudaStream_t s) { return ck::gemm_bf16(A, B, nk, bias, C, M, N, K, s); });
}
BENCHMARK(BM_gemm_bf16)
    ->ArgNames({"M", "N", "K", "nk"})
    ->Args({2048, 3 * kD, kD, 1})
    ->Args({2048, kMlp, kD, 1})
    ->Args({2048, kD, kMlp, 1})
    ->Args({2048, kMlp, kD, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------
// Attention: 16 heads x 72, q / k / v as views of one packed qkv buffer [tokens][3][H][Dh].
// Args: sequences, varlen (0: dense, all 256 tokens; 1: lengths alternate 256, 64), tc (1: TF32 tensor cores,
// 2: bf16 q / k / v / out on bf16 tensor cores, attention_flash2_bf16).
void BM_attention(benchmark::State& st) {
    const int B = (int)st.range(0);
    const bool varlen = st.range(1) == 1, tc = st.range(2) >= 1, bf16 = st.range(2) == 2;
    std::vector<int32_t> cu(1, 0);
    double sq = 0;  // sum of squared sequence lengths
    for (int i = 0; i < B; ++i) {
        const int len = varlen && (i & 1) ? 64 : (int)kTok;
        cu.push_back(cu.back() + len);
        sq += (double)len * len;
    }
    const int R = cu.back();
    const int64_t row = 3 * kHeads * kDh;
    Buffers b(st, bf16 ? "attention_bf16" : "attention", 2);
    float* qkv = bf16 ? nullptr : b.f32((size_t)R * row);
    float* o = bf16 ? nullptr : b.f32((size_t)R * kHeads * kDh);
    __nv_bfloat16* qkv16 = bf16 ? b.bf16((size_t)R * row) : nullptr;
    __nv_bfloat16* o16 = bf16 ? b.bf16((size_t)R * kHeads * kDh) : nullptr;
    int32_t* d_cu = b.i32(cu);
    if (!b.ok()) return;
    ck::AttentionVarlenArgs a{};
    a.q = qkv;
    a.k = qkv + kHeads * kDh;
    a.v = qkv + 2 * kHeads * kDh;
    a.q_sn = a.k_sn = a.v_sn = kTok * row;
    a.q_st = a.k_st = a.v_st = row;
    a.q_sh = a.k_sh = a.v_sh = kDh;
    a.o = o;
    a.o_sn = kTok * kHeads * kDh;
    a.o_st = kHeads * kDh;
    a.o_sh = kDh;
    a.cu_seqlens = varlen ? d_cu : nullptr;
    a.B = B;
    a.R = R;
    a.T = (int)kTok;
    a.H = (int)kHeads;
    a.Dh = (int)kDh;
    a.scale = 1.0f / std::sqrt((float)kDh);
    a.tensor_cores = tc;
    if (bf16) {
        const uint16_t* q16 = reinterpret_cast<const uint16_t*>(qkv16);
        a.q = a.k = a.v = nullptr;
        a.o = nullptr;
        a.q16 = q16;
        a.k16 = q16 + kHeads * kDh;
        a.v16 = q16 + 2 * kHeads * kDh;
        a.o16 = reinterpret_cast<uint16_t*>(o16);
    }
    // varlen: the kernels find their tiles by scanning cu_seqlens (no host-built table here)
    run_timed(st, bf16 ? "attention_flash2_bf16" : tc ? "attention_tc" : "attention_varlen", 4.0 * kHeads * kDh * sq,
              (bf16 ? 2.0 : 4.0) * R * kHeads * kDh * 4, bf16 ? Unit::kBf16 : tc ? Unit::kTf32 : Unit::kFp32,
              [&](cudaStream_t s) { return ck::attention_varlen(a, s); });
}
BENCHMARK(BM_attention)
    ->ArgNames({"seqs", "varlen", "tc"})
    ->Args({8, 0, 0})
    ->Args({16, 0, 0})  // CFG batch
    ->Args({8, 1, 0})   // 4 x 256 + 4 x 64 tokens
    ->Args({8, 0, 1})   // the same on TF32 tensor cores
    ->Args({16, 0, 1})
    ->Args({8, 1, 1})
    ->Args({16, 0, 2})  // bf16 operands, CFG batch
    ->Args({8, 1, 2})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------
// Row-wise, memory-bound kernels. Args: N (samples), T (tokens), D.

void BM_layernorm_modulate(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2);
    Buffers b(st, "layernorm_modulate", 3);
    float* x = b.f32((size_t)(N * T * D));
    float* y = b.f32((size_t)(N * T * D));
    float* shift = b.f32((size_t)(N * D));
    float* scale = b.f32((size_t)(N * D));
    if (!b.ok()) return;
    run_timed(st, "layernorm_modulate", 0, 4.0 * (2.0 * N * T * D + 2.0 * N * D), Unit::kNone, [&](cudaStream_t s) {
        return ck::layernorm_modulate(x, T * D, D, y, T * D, D, shift, D, scale, D, N, T, D, 1e-6f, s);
    });
}
BENCHMARK(BM_layernorm_modulate)
    ->ArgNames({"N", "T", "D"})
    ->Args({8, kTok, kD})
    ->Args({16, kTok, kD})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Ragged form (DyDiT kept tokens): half of the N*T rows.
void BM_layernorm_modulate_rows(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2), K = N * T / 2;
    std::vector<int32_t> rs((size_t)K);
    const std::vector<int32_t> idx = random_subset(N * T, K, 7);
    for (int64_t i = 0; i < K; ++i) rs[(size_t)i] = (int32_t)(idx[(size_t)i] / T);
    Buffers b(st, "layernorm_modulate_rows", 3);
    float* x = b.f32((size_t)(K * D));
    float* y = b.f32((size_t)(K * D));
    float* shift = b.f32((size_t)(N * D));
    float* scale = b.f32((size_t)(N * D));
    int32_t* row_sample = b.i32(rs);
    if (!b.ok()) return;
    run_timed(st, "layernorm_modulate_rows", 0, 4.0 * (2.0 * K * D + 2.0 * N * D + K), Unit::kNone,
              [&](cudaStream_t s) {
                  return ck::layernorm_modulate_rows(x, D, y, D, shift, D, scale, D, row_sample, K, D, 1e-6f, s);
              });
}
BENCHMARK(BM_layernorm_modulate_rows)
    ->ArgNames({"N", "T", "D"})
    ->Args({8, kTok, kD})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

void BM_gated_residual_add(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2);
    Buffers b(st, "gated_residual_add", 3);
    float* h = b.f32((size_t)(N * T * D));
    float* x = b.f32((size_t)(N * T * D));
    float* gate = b.f32((size_t)(N * D), -0.05f, 0.05f);
    if (!b.ok()) return;
    run_timed(st, "gated_residual_add", 0, 4.0 * (3.0 * N * T * D + N * D), Unit::kNone, [&](cudaStream_t s) {
        return ck::gated_residual_add(h, T * D, D, x, T * D, D, gate, D, N, T, D, s);
    });
}
BENCHMARK(BM_gated_residual_add)
    ->ArgNames({"N", "T", "D"})
    ->Args({8, kTok, kD})
    ->Args({16, kTok, kD})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// DyDiT / DiffCR routing: gather half of the N*T token rows, scatter-add them back (gated, per-row sample).
void BM_gather_rows(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2), K = N * T / 2;
    Buffers b(st, "gather_rows", 3);
    float* src = b.f32((size_t)(N * T * D));
    float* dst = b.f32((size_t)(K * D));
    int32_t* index = b.i32(random_subset(N * T, K, 11));
    if (!b.ok()) return;
    run_timed(st, "gather_rows", 0, 4.0 * (2.0 * K * D + K), Unit::kNone,
              [&](cudaStream_t s) { return ck::gather_rows(src, D, index, dst, D, K, D, s); });
}
BENCHMARK(BM_gather_rows)
    ->ArgNames({"N", "T", "D"})
    ->Args({8, kTok, kD})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// Args: N, T, D, unique (1: unique indices, plain read-modify-write; 0: repeats, atomicAdd).
void BM_scatter_add_rows(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), D = st.range(2), K = N * T / 2;
    const bool unique = st.range(3) == 1;
    std::vector<int32_t> idx;
    if (unique) {
        idx = random_subset(N * T, K, 13);
    } else {  // every target row twice
        const std::vector<int32_t> half = random_subset(N * T, K / 2, 13);
        for (int32_t v : half) idx.insert(idx.end(), {v, v});
    }
    std::vector<int32_t> rs(idx.size());
    for (size_t i = 0; i < idx.size(); ++i) rs[i] = (int32_t)(idx[i] / T);
    Buffers b(st, "scatter_add_rows", 4);
    float* dst = b.f32((size_t)(N * T * D));
    float* src = b.f32((size_t)(K * D));
    float* gate = b.f32((size_t)(N * D), -0.05f, 0.05f);
    int32_t* index = b.i32(idx);
    int32_t* row_sample = b.i32(rs);
    if (!b.ok()) return;
    run_timed(st, unique ? "scatter_add_rows(unique)" : "scatter_add_rows(atomic)", 0,
              4.0 * (3.0 * K * D + 2.0 * K + N * D), Unit::kNone, [&](cudaStream_t s) {
                  return ck::scatter_add_rows(dst, D, index, src, D, gate, D, row_sample, K, D, unique, s);
              });
}
BENCHMARK(BM_scatter_add_rows)
    ->ArgNames({"N", "T", "D", "unique"})
    ->Args({8, kTok, kD, 1})
    ->Args({8, kTok, kD, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------
// Token routing: launch-bound at these sizes (a few us).

// DiffCR top-k per sample. Args: N, T, k.
void BM_topk_rows(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1), k = st.range(2);
    Buffers b(st, "topk_rows", 3);
    float* scores = b.f32((size_t)(N * T));
    int32_t* index = b.i32(std::vector<int32_t>((size_t)(N * k), 0));
    if (!b.ok()) return;
    run_timed(st, "topk_rows", 0, 4.0 * (N * T + N * k), Unit::kNone,
              [&](cudaStream_t s) { return ck::topk_rows(scores, T, index, N, T, k, s); });
}
BENCHMARK(BM_topk_rows)
    ->ArgNames({"N", "T", "k"})
    ->Args({8, kTok, kTok / 2})
    ->Args({16, kTok, kTok / 2})
    ->Args({8, 1024, 512})  // 512x512 images, patch 2
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// DyDiT token keep (about half kept: logits uniform in [-1, 1]). Args: N, T.
void BM_select_tokens(benchmark::State& st) {
    const int64_t N = st.range(0), T = st.range(1);
    Buffers b(st, "select_tokens", 2);
    float* logits = b.f32((size_t)(N * T));
    int32_t* index = b.i32(std::vector<int32_t>((size_t)(N * T), 0));
    int32_t* row_sample = b.i32(std::vector<int32_t>((size_t)(N * T), 0));
    int32_t* counts = b.i32(std::vector<int32_t>((size_t)N, 0));
    if (!b.ok()) return;
    run_timed(st, "select_tokens", 0, 4.0 * (N * T + N * T + N), Unit::kNone, [&](cudaStream_t s) {
        return ck::select_tokens(logits, T, index, row_sample, counts, N, T, s);
    });
}
BENCHMARK(BM_select_tokens)
    ->ArgNames({"N", "T"})
    ->Args({8, kTok})
    ->Args({16, kTok})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------
// SD-VAE decoder (latent 32x32x4 -> 256x256 image): 512-channel convolutions at 32x32 and 64x64, GroupNorm.

// Args: N, Ci, Co, H (= W), k, precision (0 tf32, 1 fp32), residual (0 / 1).
void BM_vae_conv2d(benchmark::State& st) {
    const int N = (int)st.range(0), Ci = (int)st.range(1), Co = (int)st.range(2), H = (int)st.range(3),
              k = (int)st.range(4);
    const bool fp32 = st.range(5) == 1, residual = st.range(6) == 1;
    const int64_t HW = (int64_t)H * H;
    Buffers b(st, "vae_conv2d", 7);
    float* x = b.f32((size_t)(N * Ci * HW));
    float* w = b.f32((size_t)Co * Ci * k * k, -0.02f, 0.02f);
    float* bias = b.f32(Co);
    float* res = b.f32((size_t)(N * Co * HW));
    float* y = b.f32((size_t)(N * Co * HW));
    if (!b.ok()) return;
    ck::Conv2dArgs a{};
    a.x = x;
    a.w = w;
    a.bias = bias;
    a.residual = residual ? res : nullptr;
    a.y = y;
    a.N = N;
    a.Ci = Ci;
    a.Co = Co;
    a.H = H;
    a.W = H;
    a.k = k;
    a.precision = fp32 ? ck::ConvPrecision::kFp32 : ck::ConvPrecision::kTf32;
    const double flops = 2.0 * N * HW * Co * (double)Ci * k * k;
    const double bytes =
        4.0 * ((double)N * Ci * HW + (double)Co * Ci * k * k + Co + (residual ? 2.0 : 1.0) * N * Co * HW);
    run_timed(st, fp32 ? "vae_conv2d(fp32)" : "vae_conv2d(tf32)", flops, bytes, fp32 ? Unit::kFp32 : Unit::kTf32,
              [&](cudaStream_t s) { return ck::vae_conv2d(a, s); });
}
BENCHMARK(BM_vae_conv2d)
    ->ArgNames({"N", "Ci", "Co", "HW", "k", "fp32", "res"})
    ->Args({8, 4, 512, 32, 3, 0, 0})      // conv_in
    ->Args({8, 512, 512, 32, 3, 0, 1})    // mid resblock conv + residual
    ->Args({8, 512, 512, 64, 3, 0, 0})    // up block at 64x64
    ->Args({8, 512, 512, 32, 1, 0, 0})    // 1x1 (attention q/k/v/proj as conv)
    ->Args({8, 512, 512, 32, 3, 1, 0})    // fp32 path
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// GroupNorm(32) + SiLU. Args: N, C, H (= W), silu.
void BM_vae_group_norm(benchmark::State& st) {
    const int N = (int)st.range(0), C = (int)st.range(1);
    const int64_t HW = st.range(2) * st.range(2);
    const bool silu = st.range(3) == 1;
    Buffers b(st, "vae_group_norm", 4);
    float* x = b.f32((size_t)(N * C * HW));
    float* y = b.f32((size_t)(N * C * HW));
    float* gamma = b.f32(C);
    float* beta = b.f32(C);
    if (!b.ok()) return;
    run_timed(st, "vae_group_norm", 0, 4.0 * (2.0 * N * C * HW + 2.0 * C), Unit::kNone,
              [&](cudaStream_t s) { return ck::vae_group_norm(x, gamma, beta, y, N, C, HW, 32, 1e-6f, silu, s); });
}
BENCHMARK(BM_vae_group_norm)
    ->ArgNames({"N", "C", "HW", "silu"})
    ->Args({8, 512, 32, 1})
    ->Args({8, 512, 64, 1})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

// ---------------------------------------------------------------------------------------------------------
// DDPM step on the latent (4 channels, 32x32; the model's learned-range output has 8). Args: B.
void BM_ddpm_update(benchmark::State& st) {
    const int64_t B = st.range(0), C = 4, Co = 8, P = 32 * 32;
    Buffers b(st, "ddpm_update", 1);
    float* x = b.f32((size_t)(B * C * P));
    float* out = b.f32((size_t)(B * Co * P));
    float* noise = b.f32((size_t)(B * C * P));
    float* pred = b.f32((size_t)(B * C * P));
    float* next = b.f32((size_t)(B * C * P));
    if (!b.ok()) return;
    const ck::DdpmCoefs k{1.02f, 0.2f, 0.3f, 0.7f, -4.0f, -5.0f, -4.5f};
    run_timed(st, "ddpm_update", 0, 4.0 * (double)B * P * (C + Co + C + 2 * C), Unit::kNone, [&](cudaStream_t s) {
        return ck::ddpm_update(x, out, noise, pred, next, B, C, Co, P, k, true, s);
    });
}
BENCHMARK(BM_ddpm_update)->ArgNames({"B"})->Arg(8)->Arg(16)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace

int main(int argc, char** argv) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e == cudaSuccess && count == 0) e = cudaErrorNoDevice;
    if (e == cudaSuccess) e = cudaSetDevice(0);
    if (e == cudaSuccess) e = cudaFree(nullptr);  // create the context now
    if (e != cudaSuccess) {
        std::printf("dyndit_cuda_bench: SKIPPED: %s\n", cudaGetErrorString(e));
        return 0;
    }
    if ((e = cudaStreamCreateWithFlags(&g_gpu.stream, cudaStreamNonBlocking)) != cudaSuccess ||
        (e = cudaEventCreate(&g_gpu.start)) != cudaSuccess || (e = cudaEventCreate(&g_gpu.stop)) != cudaSuccess) {
        std::fprintf(stderr, "dyndit_cuda_bench: stream / event setup failed: %s\n", cudaGetErrorString(e));
        return 1;
    }

    cudaDeviceProp prop{};
    const char* name = cudaGetDeviceProperties(&prop, 0) == cudaSuccess ? prop.name : "?";
    compute_roofline(0);
    const int major = attr(cudaDevAttrComputeCapabilityMajor, 0), minor = attr(cudaDevAttrComputeCapabilityMinor, 0);
    const std::string peaks = fmt("TF32 tensor %.1f, BF16 tensor %.1f, FP32 %.1f TFLOP/s; DRAM %.0f GB/s",
                                  g_roof.tf32_tflops, g_roof.bf16_tflops, g_roof.fp32_tflops, g_roof.dram_gbs);
    std::printf("dyndit_cuda_bench: device 0: %s (sm_%d%d, %d SMs)\n", name, major, minor,
                attr(cudaDevAttrMultiProcessorCount, 0));
    std::printf("dyndit_cuda_bench: roofline %s (0 = unknown)\n", peaks.c_str());
    std::printf("dyndit_cuda_bench: roofline source: compute from %s; memory from %s\n",
                g_roof.compute_source.c_str(), g_roof.memory_source.c_str());
    std::fflush(stdout);
    benchmark::AddCustomContext("cuda_device", std::string(name) + " (sm_" + std::to_string(major * 10 + minor) + ")");
    benchmark::AddCustomContext("roofline", peaks);
    benchmark::AddCustomContext("roofline_compute_source", g_roof.compute_source);
    benchmark::AddCustomContext("roofline_memory_source", g_roof.memory_source);

    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    g_cache.clear();
    cudaEventDestroy(g_gpu.start);
    cudaEventDestroy(g_gpu.stop);
    cudaStreamDestroy(g_gpu.stream);
    return 0;
}
