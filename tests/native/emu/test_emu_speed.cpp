// Emulator throughput, printed for the record. The collective rate always runs (it is small); the
// example-kernel timings at DiT-like sizes run only with DYNDIT_EMU_BENCH=1.
#include <chrono>
#include <cstdlib>

#include "emu_test_util.h"
#include "layernorm_rows.cuh"
#include "mma_gemm_bf16.cuh"

using emu_test::DevBuf;
namespace emu = dd::simt::emu;

namespace {

__global__ void shuffle_storm(float* out, int rounds) {
    float v = (float)threadIdx.x;
    for (int i = 0; i < rounds; ++i) v += __shfl_xor_sync(0xffffffffu, v, (i % 5) + 1) * 0.5f;
    out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool bench_enabled() {
    const char* e = std::getenv("DYNDIT_EMU_BENCH");
    return e && *e && *e != '0';
}

}  // namespace

TEST(EmuSpeed, WarpCollectiveRate) {
    const int blocks = 4, threads = 256, rounds = bench_enabled() ? 2000 : 100;
    DevBuf<float> out(blocks * threads);
    emu::reset_stats();
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(dd_launch(shuffle_storm, blocks, threads, 0, 0, out.p, rounds), cudaSuccess);
    const double s = seconds_since(t0);
    const emu::Stats st = emu::stats();
    EXPECT_EQ(st.collectives, (uint64_t)blocks * threads / 32 * rounds);
    printf("[ emu ] %llu warp collectives (%llu lane calls) in %.3f s on %d OS threads: %.0f warp collectives/s, "
           "%.0f lane calls/s, %.0f ns per fiber resume\n",
           (unsigned long long)st.collectives, (unsigned long long)st.collectives * 32, s, emu::worker_count(),
           st.collectives / s, st.collectives * 32 / s, s * 1e9 * emu::worker_count() / (double)st.resumes);
}

TEST(EmuSpeed, ExampleKernelsAtDitSizes) {
    if (!bench_enabled()) GTEST_SKIP() << "set DYNDIT_EMU_BENCH=1";
    {
        const int rows = 1024, cols = 1152;
        std::vector<float> x(rows * cols, 1.0f);
        for (size_t i = 0; i < x.size(); ++i) x[i] = (float)(i % 97) * 0.01f;
        DevBuf<float> dx(x), dy(rows * cols);
        const auto t0 = std::chrono::steady_clock::now();
        ASSERT_EQ(dd::cuda_kernels::layernorm_rows(dx.p, nullptr, nullptr, dy.p, rows, cols, 1e-6f, 0), cudaSuccess);
        printf("[ emu ] layernorm_rows %d x %d: %.3f s\n", rows, cols, seconds_since(t0));
    }
    {
        const int M = 256, N = 256, K = 1152;
        std::vector<__nv_bfloat16> a(M * K, emu_test::to_bf16(0.5f)), b(N * K, emu_test::to_bf16(0.25f));
        DevBuf<__nv_bfloat16> da(a), db(b);
        DevBuf<float> dc(M * N);
        for (bool nk : {true, false}) {
            emu::reset_stats();
            const auto t0 = std::chrono::steady_clock::now();
            ASSERT_EQ(dd::cuda_kernels::gemm_bf16(da.p, db.p, nk, nullptr, dc.p, M, N, K, 0), cudaSuccess);
            printf("[ emu ] gemm_bf16 %dx%dx%d (%s): %.3f s, %llu warp collectives\n", M, N, K,
                   nk ? "B[N][K]" : "B[K][N]", seconds_since(t0), (unsigned long long)emu::stats().collectives);
        }
    }
}
