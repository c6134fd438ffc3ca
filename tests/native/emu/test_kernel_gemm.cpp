// cuda-kernels/mma_gemm_bf16.cu under emulation against a double-precision reference on the
// bf16-rounded inputs. The mutation build (DD_EMU_MMA_MUTATION) must fail these tests: ctest runs
// it expecting "[  FAILED  ] EmuGemm.".
#include <cmath>

#include "emu_test_util.h"
#include "mma_gemm_bf16.cuh"

using emu_test::DevBuf;

namespace {

void check_gemm(int M, int N, int K, bool b_is_nk, bool with_bias) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " M " + std::to_string(M) + " N " + std::to_string(N) + " K " + std::to_string(K) +
                 (b_is_nk ? " B[N][K]" : " B[K][N]"));
    std::vector<__nv_bfloat16> A(M * K), B(N * K);
    std::vector<float> bias(N);
    for (auto& a : A) a = emu_test::to_bf16(rng.normal());
    for (auto& b : B) b = emu_test::to_bf16(rng.normal());
    for (auto& b : bias) b = rng.normal();
    DevBuf<__nv_bfloat16> dA(A), dB(B);
    DevBuf<float> dbias(bias), dC(M * N);
    ASSERT_EQ(dd::cuda_kernels::gemm_bf16(dA.p, dB.p, b_is_nk, with_bias ? dbias.p : nullptr, dC.p, M, N, K, 0),
              cudaSuccess);
    const auto C = dC.get();
    double worst = 0;
    int bad = 0;
    for (int m = 0; m < M; ++m)
        for (int n = 0; n < N; ++n) {
            double ref = with_bias ? bias[n] : 0.0, mag = std::fabs(ref);
            for (int k = 0; k < K; ++k) {
                const double b = emu_test::from_bf16(b_is_nk ? B[(size_t)n * K + k] : B[(size_t)k * N + n]);
                const double p = (double)emu_test::from_bf16(A[(size_t)m * K + k]) * b;
                ref += p;
                mag += std::fabs(p);
            }
            // fp32 accumulation over K: relative to the sum of |terms|, 1e-3 is generous and still
            // far below what any wrong fragment mapping produces.
            const double err = std::fabs(C[(size_t)m * N + n] - ref) / std::max(1.0, mag);
            worst = std::max(worst, err);
            bad += !(err < 1e-3);
        }
    EXPECT_EQ(bad, 0) << "GEMM mismatch: " << bad << " of " << M * N << " outputs, worst relative error " << worst;
}

}  // namespace

TEST(EmuGemm, SquareTileWeightLayout) { check_gemm(64, 64, 64, true, false); }
TEST(EmuGemm, RaggedEdgesDitWidthWithBias) { check_gemm(100, 72, 1152, true, true); }
TEST(EmuGemm, RowMajorBUsesTransposedLdmatrix) { check_gemm(128, 96, 256, false, false); }
TEST(EmuGemm, RowMajorBRaggedWithBias) { check_gemm(37, 40, 96, false, true); }
TEST(EmuGemm, RejectsUnsupportedShapes) {
    DevBuf<__nv_bfloat16> a(64), b(64);
    DevBuf<float> c(64);
    EXPECT_EQ(dd::cuda_kernels::gemm_bf16(a.p, b.p, true, nullptr, c.p, 4, 4, 12, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::gemm_bf16(a.p, b.p, false, nullptr, c.p, 4, 4, 8, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::gemm_bf16(a.p + 1, b.p, true, nullptr, c.p, 4, 4, 8, 0), cudaErrorInvalidValue);
}
