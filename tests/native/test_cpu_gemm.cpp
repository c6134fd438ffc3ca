// The CPU GEMM engine (oneDNN): one OpenMP runtime in the process, bf16 weight copies that follow rewrites of the
// weights, and primitives created and run from many threads at once.
#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <thread>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

const Backend kCpu{"cpu", DD_DEVICE_CPU, 0};

// fp32 dot products of K terms: gamma_{K+1} relative to sum |terms| (see test_linear.cpp); bf16 rounds both operands.
Tolerance gemm_bound(int precision, int64_t K) {
    return rounded_operand_gemm(precision == DD_PRECISION_BF16 ? bf16_unit_roundoff() : 0, K, {1e-5, 1e-5, 0});
}

bool bf16_runs() {
    if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) != DD_OK) {
        dd_clear_error();
        return false;
    }
    return true;
}

// The mapped files of this process whose name holds `part`.
std::set<std::string> mapped(const std::string& part) {
    std::ifstream maps("/proc/self/maps");
    std::set<std::string> paths;
    for (std::string line; std::getline(maps, line);) {
        const auto slash = line.find('/');
        if (slash != std::string::npos && line.find(part, slash) != std::string::npos) paths.insert(line.substr(slash));
    }
    return paths;
}

// oneDNN and the library's own OpenMP loops share one libgomp (one thread pool, one --threads setting): the copy
// shipped beside libdnnl.
TEST(CpuGemmEngine, OneOpenMpRuntimeInTheProcess) {
    Random rng;
    auto xs = rng.uniform(64 * 96, -1, 1), ws = rng.uniform(80 * 96, -1, 1);
    Tensor x = upload_f32(kCpu, xs, {64, 96}), w = upload_f32(kCpu, ws, {80, 96}), y = new_cpu(DD_F32, {64, 80});
    ASSERT_EQ(dd_linear(x.get(), w.get(), nullptr, y.get()), DD_OK) << dd_last_error();
    const auto gomp = mapped("libgomp"), dnnl = mapped("libdnnl");
    ASSERT_EQ(gomp.size(), 1u) << "OpenMP runtimes mapped: " << testing::PrintToString(gomp);
    ASSERT_EQ(dnnl.size(), 1u) << testing::PrintToString(dnnl);
    const std::string g = *gomp.begin(), d = *dnnl.begin();
    EXPECT_EQ(g.substr(0, g.rfind('/')), d.substr(0, d.rfind('/'))) << "libgomp is not oneDNN's: " << g;
}

// The bf16 copy of a weight is made once, and made again when the weight is rewritten (dd_tensor_write, dd_copy).
TEST(CpuGemmEngine, Bf16WeightCopiesFollowRewrites) {
    if (!bf16_runs()) GTEST_SKIP() << "no native bf16 on this CPU";
    Random rng;
    const int64_t M = 33, N = 47, K = 130;
    auto xs = rng.uniform(M * K, -1, 1), w1 = rng.uniform(N * K, -1, 1), w2 = rng.uniform(N * K, -1, 1);
    auto w3 = rng.uniform(N * K, -1, 1);
    Tensor x = upload_f32(kCpu, xs, {M, K}), w = upload_f32(kCpu, w1, {N, K}), y = new_cpu(DD_F32, {M, N});
    ASSERT_EQ(dd_linear(x.get(), w.get(), nullptr, y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, w1, {}, M, N, K), gemm_bound(DD_PRECISION_BF16, K)));
    require_ok(dd_tensor_write(w.get(), w2.data(), (int64_t)(w2.size() * sizeof(float)), 0), "dd_tensor_write");
    ASSERT_EQ(dd_linear(x.get(), w.get(), nullptr, y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, w2, {}, M, N, K), gemm_bound(DD_PRECISION_BF16, K)));
    Tensor src = upload_f32(kCpu, w3, {N, K});
    require_ok(dd_copy(src.get(), w.get()), "dd_copy");
    ASSERT_EQ(dd_linear(x.get(), w.get(), nullptr, y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, w3, {}, M, N, K), gemm_bound(DD_PRECISION_BF16, K)));
    ASSERT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32), DD_OK);
}

// Where oneDNN may not use bf16 instructions (ctest's cpu_bf16_refused_below_avx512_core_bf16 caps its ISA with
// ONEDNN_MAX_CPU_ISA=AVX512_CORE, as on a CPU without AVX512_BF16/AMX), bf16 is refused with a message naming the
// ISA and the CPU's features, and fp32 runs on.
TEST(CpuGemmEngine, Bf16RefusedBelowAvx512CoreBf16) {
    if (!std::getenv("DYNDIT_TEST_CAPPED_ISA")) GTEST_SKIP() << "runs as its own ctest entry with a capped ISA";
    EXPECT_TRUE(FailsWith(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16), DD_ERR_UNSUPPORTED,
                          {"needs AVX512_BF16 or AMX", "runs at ISA avx512_core here", "this CPU offers",
                           dd_cpu_features(), "use fp32"}));
    char kernel[256];
    EXPECT_TRUE(FailsWith(dd_cpu_matmul_kernel(64, 64, 64, DD_PRECISION_BF16, kernel, sizeof kernel),
                          DD_ERR_UNSUPPORTED, {"needs AVX512_BF16 or AMX"}));
    ASSERT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32), DD_OK) << dd_last_error();
    Random rng;
    const int64_t M = 20, N = 24, K = 40;
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1);
    Tensor x = upload_f32(kCpu, xs, {M, K}), w = upload_f32(kCpu, ws, {N, K}), y = new_cpu(DD_F32, {M, N});
    ASSERT_EQ(dd_linear(x.get(), w.get(), nullptr, y.get()), DD_OK) << dd_last_error();
    EXPECT_TRUE(AllClose(download(y.get()), ddref::linear(xs, ws, {}, M, N, K), gemm_bound(DD_PRECISION_FP32, K)));
}

// Threads creating and running primitives of new shapes at once, half of them in bf16: each result is its own
// product (the primitive cache, per-thread streams and scratchpads, per-thread precision).
TEST(CpuGemmEngine, ManyThreadsManyShapes) {
    const bool bf16 = bf16_runs();
    ASSERT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32), DD_OK);
    constexpr int kThreads = 6;
    std::vector<std::string> failures(kThreads);
    std::vector<std::thread> pool;
    for (int t = 0; t < kThreads; ++t)
        pool.emplace_back([&, t] {
            Random rng;
            const int precision = bf16 && t % 2 ? DD_PRECISION_BF16 : DD_PRECISION_FP32;
            if (dd_set_gemm_precision(DD_DEVICE_CPU, precision) != DD_OK) {
                failures[t] = dd_last_error();
                return;
            }
            for (int r = 0; r < 8; ++r) {
                const int64_t M = 17 + 13 * t + r, N = 29 + 7 * r, K = 31 + 5 * t;
                auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
                Tensor x = upload_f32(kCpu, xs, {M, K}), w = upload_f32(kCpu, ws, {N, K});
                Tensor b = upload_f32(kCpu, bs, {N}), y = new_cpu(DD_F32, {M, N});
                if (dd_linear(x.get(), w.get(), b.get(), y.get()) != DD_OK) {
                    failures[t] = dd_last_error();
                    return;
                }
                auto ok = AllClose(download(y.get()), ddref::linear(xs, ws, bs, M, N, K), gemm_bound(precision, K));
                if (!ok) {
                    failures[t] = "thread " + std::to_string(t) + " seed " + std::to_string(rng.seed()) + ": " +
                                  ok.message();
                    return;
                }
            }
        });
    for (auto& th : pool) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(failures[t], "") << "thread " << t;
}

}  // namespace
