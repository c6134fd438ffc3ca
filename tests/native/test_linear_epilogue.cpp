// dd_linear_gelu and dd_linear_gated_residual against the double reference on every GEMM backend (the CPU runs
// the separate ops, CUDA the GEMM's epilogue): shapes for the 64x64 and the 128-row kernels (bf16: the bf16-weight
// one), a gate or none, strided h rows; bad shapes refused naming the tensor.
#include <cmath>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

class LinearEpilogueTest : public OpTest {
protected:
    // The GEMM's bound (test_linear.cpp) for K terms.
    Tolerance gemm(int64_t K) const {
        const int p = gemm_precision(backend());
        const double u = p == DD_PRECISION_TF32 ? tf32_unit_roundoff() : p == DD_PRECISION_BF16 ? bf16_unit_roundoff() : 0;
        return rounded_operand_gemm(u, K, {1e-5, 1e-5, 0});
    }

    void check_gelu(int64_t N, int64_t T, int64_t D, int64_t K) {
        SCOPED_TRACE("N " + std::to_string(N) + " T " + std::to_string(T) + " D " + std::to_string(D) + " K " +
                     std::to_string(K));
        const int64_t M = N * T;
        auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(D * K, -1, 1), bs = rng.uniform(D, -1, 1);
        Tensor x = upload_f32(backend(), xs, {N, T, K}), w = upload_f32(backend(), ws, {D, K});
        Tensor b = upload_f32(backend(), bs, {D}), y = new_tensor(backend(), DD_F32, {N, T, D});
        DD_RUN_OP(dd_linear_gelu(x.get(), w.get(), b.get(), y.get()));
        // gelu(a): a's error passes through |gelu'| <= 1.13; gelu in fp32 adds <= 1e-5 relative (test_activations.cpp).
        const ddref::Expected want = ddref::gelu_tanh_of(ddref::linear(xs, ws, bs, M, D, K));
        const Tolerance g = gemm(K);
        EXPECT_TRUE(AllClose(download(y.get()), want, {1e-5, g.per_magnitude, 1e-12}));
    }

    // h is a column window of a wider tensor (row stride > D): its other columns must come back unchanged.
    void check_gated(int64_t N, int64_t T, int64_t D, int64_t K, bool with_gate) {
        SCOPED_TRACE("N " + std::to_string(N) + " T " + std::to_string(T) + " D " + std::to_string(D) + " K " +
                     std::to_string(K) + (with_gate ? " gate" : " no gate"));
        const int64_t M = N * T, Dw = D + 8;
        auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(D * K, -1, 1), bs = rng.uniform(D, -1, 1);
        auto hs = rng.uniform(M * Dw, -1, 1), gs = rng.uniform(N * 6 * D, -2, 2);
        Tensor x = upload_f32(backend(), xs, {N, T, K}), w = upload_f32(backend(), ws, {D, K});
        Tensor b = upload_f32(backend(), bs, {D}), hbase = upload_f32(backend(), hs, {N, T, Dw});
        Tensor gbase = upload_f32(backend(), gs, {N, 6 * D});
        Tensor h = view(hbase, {N, T, D}, {T * Dw, Dw, 1}, 0);
        Tensor gate = view(gbase, {N, D}, {6 * D, 1}, 2 * D);  // an adaLN chunk, as the DiT passes it
        DD_RUN_OP(dd_linear_gated_residual(x.get(), w.get(), b.get(), with_gate ? gate.get() : nullptr, h.get()));
        // h + g a: a's error times |g|, plus two fp32 roundings (product, sum): <= 2^-23 of |g a| + |h|, written
        // into the magnitude so that per_magnitude times it is 1.2e-7 of that.
        const ddref::Expected a = ddref::linear(xs, ws, bs, M, D, K);
        const Tolerance g = gemm(K);
        ddref::Expected want = ddref::sized((size_t)(M * Dw));
        for (int64_t m = 0; m < M; ++m)
            for (int64_t j = 0; j < Dw; ++j) {
                const size_t o = (size_t)(m * Dw + j);
                if (j >= D) {
                    want.value[o] = hs[o];
                    continue;
                }
                const double gv = with_gate ? gs[(size_t)((m / T) * 6 * D + 2 * D + j)] : 1.0;
                const size_t ai = (size_t)(m * D + j);
                want.value[o] = hs[o] + gv * a.value[ai];
                want.magnitude[o] =
                    std::fabs(gv) * a.magnitude[ai] + (std::fabs(gv * a.value[ai]) + std::fabs(hs[o])) / g.per_magnitude * 1.2e-7;
            }
        EXPECT_TRUE(AllClose(download(hbase.get()), want, {0, g.per_magnitude, 0}));
    }
};

TEST_P(LinearEpilogueTest, GeluBothKernelShapes) {
    check_gelu(2, 37, 45, 67);   // ragged: the 64x64 kernel
    check_gelu(2, 128, 128, 96);  // 128-row tiles (bf16: the bf16-weight kernel)
}

TEST_P(LinearEpilogueTest, GatedResidualBothKernelShapes) {
    check_gated(3, 29, 40, 72, true);
    check_gated(2, 128, 128, 96, true);
    check_gated(2, 128, 128, 96, false);
}

TEST_P(LinearEpilogueTest, BadShapesAreRefusedNamingTheTensor) {
    Tensor x = new_tensor(backend(), DD_F32, {2, 5, 8}), w = new_tensor(backend(), DD_F32, {6, 8});
    Tensor h = new_tensor(backend(), DD_F32, {2, 5, 6}), gate_bad = new_tensor(backend(), DD_F32, {2, 7});
    Tensor x2 = new_tensor(backend(), DD_F32, {10, 8}), y2 = new_tensor(backend(), DD_F32, {10, 6});
    Tensor y_bad = new_tensor(backend(), DD_F32, {2, 5, 7});
    EXPECT_TRUE(FailsWith(dd_linear_gated_residual(x.get(), w.get(), nullptr, gate_bad.get(), h.get()), DD_ERR_SHAPE,
                          {"dd_linear_gated_residual", "'gate'"}));
    EXPECT_TRUE(FailsWith(dd_linear_gated_residual(x2.get(), w.get(), nullptr, nullptr, y2.get()), DD_ERR_SHAPE,
                          {"dd_linear_gated_residual", "'x'"}));
    EXPECT_TRUE(FailsWith(dd_linear_gelu(x.get(), w.get(), nullptr, y_bad.get()), DD_ERR_SHAPE,
                          {"dd_linear_gelu", "'y'"}));
    Tensor in_x = view(x, {2, 5, 6}, {40, 8, 1}, 0);  // h in x's memory: the epilogue would read x it rewrote
    EXPECT_TRUE(FailsWith(dd_linear_gated_residual(x.get(), w.get(), nullptr, nullptr, in_x.get()),
                          DD_ERR_INVALID_ARGUMENT, {"dd_linear_gated_residual", "'h'", "overlaps"}));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(LinearEpilogueTest);

}  // namespace
