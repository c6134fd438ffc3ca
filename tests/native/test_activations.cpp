// dd_gelu_tanh and dd_silu against the double reference, over |x| up to 20, in place and out of place,
// on sizes below and above the CPU backend's threading threshold.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// rtol: the fp32 argument of exp carries a few roundings (relative error ~5 * 2^-24 of |2z| for GELU,
// none for SiLU), which exp turns into an absolute error of the exponent; wherever the output is
// above atol, |2z| < 30 and that stays below 1e-5 relative, with exp's own ~2e-7 on top.
// atol: the double reference 0.5x(1 + tanh z) cancels to nothing for z < -19 (error up to
// |x| * 2^-53 = 2e-15 at |x| = 20), and outputs that small are where exp saturates by design.
constexpr Tolerance kActivation{1e-5, 0, 1e-12};

// Random values in [-20, 20) plus the edges: tiny, around the GELU knee, and +-20.
std::vector<float> activation_inputs(Random& rng, size_t n) {
    auto xs = rng.uniform(n, -20, 20);
    const float edges[] = {1e-7f, -1e-7f, 1e-3f, -1e-3f, 0.5f, -0.5f, 1.f, -1.f, 3.f, -3.f, 5.f, -5.f, 20.f, -20.f};
    for (size_t i = 0; i < sizeof edges / sizeof *edges && i < n; ++i) xs[i * 7 % n] = edges[i];
    return xs;
}

class ActivationTest : public OpTest {
protected:
    // Runs `op` out of place and in place on n inputs and compares both with `ref`.
    void check(dd_status (*op)(const dd_tensor*, dd_tensor*), ddref::Expected (*ref)(const std::vector<float>&),
               int64_t n) {
        const auto xs = activation_inputs(rng, (size_t)n);
        const auto want = ref(xs);
        Tensor x = upload_f32(backend(), xs, {n}), y = new_tensor(backend(), DD_F32, {n});
        DD_RUN_OP(op(x.get(), y.get()));
        EXPECT_TRUE(AllClose(download(y.get()), want, kActivation)) << "out of place, n=" << n;
        DD_RUN_OP(op(x.get(), x.get()));
        EXPECT_TRUE(AllClose(download(x.get()), want, kActivation)) << "in place, n=" << n;
    }
};

// 4099: one 4096 chunk plus a tail; 40009: above the 2^15 threading threshold, ragged last chunk.
TEST_P(ActivationTest, GeluTanh) {
    for (int64_t n : {4099, 40009}) check(dd_gelu_tanh, ddref::gelu_tanh, n);
}

TEST_P(ActivationTest, Silu) {
    for (int64_t n : {4099, 40009}) check(dd_silu, ddref::silu, n);
}

// Element-wise ops take any rank: a [7,37,3] tensor is 777 elements in one run.
TEST_P(ActivationTest, GeluTanhOnRank3Tensor) {
    const auto xs = activation_inputs(rng, 7 * 37 * 3);
    Tensor x = upload_f32(backend(), xs, {7, 37, 3}), y = new_tensor(backend(), DD_F32, {7, 37, 3});
    DD_RUN_OP(dd_gelu_tanh(x.get(), y.get()));
    EXPECT_TRUE(AllClose(download(y.get()), ddref::gelu_tanh(xs), kActivation));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(ActivationTest);

}  // namespace
