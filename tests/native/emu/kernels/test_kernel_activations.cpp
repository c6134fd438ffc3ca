// cuda-kernels/activations.cu under emulation: each op against a double-precision reference on fresh
// random inputs (plus edge values), out of place and in place, for ragged n; guard floats after y
// catch writes past the end.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <functional>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "activations.cuh"

using emu_test::DevBuf;
namespace k = dd::cuda_kernels;

namespace {

using Launcher = cudaError_t (*)(const float*, float*, int64_t, cudaStream_t);

struct Op {
    const char* name;
    Launcher launch;
    double (*ref)(double);
    // Argument u of the op's expf, as computed in float: its rounding error grows with |u|.
    double (*exp_arg)(double);
};

// 0.5 x (1 + tanh(w)) written as x / (1 + exp(-2w)): the same function without 1 + tanh's cancellation
// (in double too) for very negative x.
double gelu_arg(double v) { return -2.0 * std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v); }
double gelu_ref(double v) { return v / (1.0 + std::exp(gelu_arg(v))); }
double silu_ref(double v) { return v / (1.0 + std::exp(-v)); }
double sigmoid_ref(double v) { return 1.0 / (1.0 + std::exp(-v)); }
double neg(double v) { return -v; }

const Op kOps[] = {{"gelu_tanh", k::gelu_tanh, gelu_ref, gelu_arg},
                   {"silu", k::silu, silu_ref, neg},
                   {"sigmoid", k::sigmoid, sigmoid_ref, neg}};

// Error bound for y = a / (1 + expf(u)) in float (a = x or 1, exact): expf is within 2 ulp (CUDA's
// documented bound; glibc's is 1), the add and the divide round once each, so 4 eps relative when u is
// exact (silu, sigmoid: u = -x). gelu's u = -2 * 0.798 * (x + 0.0447 x^3) rounds ~5 times with no
// cancellation (both terms have x's sign), an absolute error of ~5 eps |u| that expf turns into a
// relative one: 6 eps |u| more. Absolute floor for very negative x: expf overflows to inf (y = -0) once
// |y| < |a| / FLT_MAX, and subnormal results round to a multiple of 2^-149; (1 + |x|) FLT_MIN covers both.
double tolerance(const Op& op, double x, double ref) {
    return FLT_EPSILON * (4.0 + 6.0 * std::fabs(op.exp_arg(x))) * std::fabs(ref) + (1.0 + std::fabs(x)) * FLT_MIN;
}

std::vector<float> inputs(emu_test::Rng& rng, int64_t n) {
    // Edge values first (tiny, zero of both signs, saturating and overflowing expf), then N(0, 4^2).
    static const float kEdges[] = {0.0f, -0.0f, 1e-30f, -1e-30f, 20.0f, -20.0f, 88.0f, -88.0f, 100.0f, -100.0f};
    std::vector<float> x(n);
    for (int64_t i = 0; i < n; ++i) x[i] = i < 10 && n >= 37 ? kEdges[i] : 4.0f * rng.normal();
    return x;
}

// Runs launch on x (in place: on a copy of x in y's buffer) and returns y[0, n) plus guard floats.
std::vector<float> run(Launcher launch, const std::vector<float>& x, bool in_place, int guard, float fill) {
    const int64_t n = (int64_t)x.size();
    std::vector<float> yinit(n + guard, fill);
    if (in_place) std::copy(x.begin(), x.end(), yinit.begin());
    DevBuf<float> dx(x), dy(yinit);
    EXPECT_EQ(launch(in_place ? dy.p : dx.p, dy.p, n, 0), cudaSuccess);
    return dy.get();
}

void check(const Op& op, int64_t n, bool in_place) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " " + op.name + " n " + std::to_string(n) + (in_place ? " in place" : ""));
    const auto x = inputs(rng, n);
    const int guard = 3;
    const auto y = run(op.launch, x, in_place, guard, 7.0f);
    for (int64_t i = 0; i < n; ++i) {
        const double ref = op.ref(x[i]);
        ASSERT_LE(std::fabs(y[i] - ref), tolerance(op, x[i], ref)) << "x " << x[i] << " at " << i;
    }
    for (int g = 0; g < guard; ++g) EXPECT_EQ(y[n + g], 7.0f);
}

}  // namespace

TEST(EmuActivations, SmoothOps) {
    for (const Op& op : kOps)
        for (int64_t n : {1, 37, 100003})
            for (bool in_place : {false, true}) check(op, n, in_place);
}

// relu is a select: exact, +0 for -0 and NaN (as the CPU backend's x > 0 ? x : 0).
TEST(EmuActivations, Relu) {
    for (int64_t n : {1, 37, 100003})
        for (bool in_place : {false, true}) {
            emu_test::Rng rng;
            SCOPED_TRACE(rng.trace() + " n " + std::to_string(n) + (in_place ? " in place" : ""));
            auto x = inputs(rng, n);
            if (n > 10) x[10] = NAN;
            const auto y = run(k::relu, x, in_place, 3, 7.0f);
            int bad = 0;
            for (int64_t i = 0; i < n; ++i) {
                const float want = x[i] > 0.0f ? x[i] : 0.0f;
                bad += std::memcmp(&y[i], &want, sizeof(float)) != 0;  // bitwise: tells +0 from -0
            }
            for (int g = 0; g < 3; ++g) bad += y[n + g] != 7.0f;
            EXPECT_EQ(bad, 0);
        }
}

TEST(EmuActivations, EmptyAndBad) {
    DevBuf<float> buf(4);
    for (Launcher f : {k::gelu_tanh, k::silu, k::relu, k::sigmoid}) {
        EXPECT_EQ(f(buf.p, buf.p, 0, 0), cudaSuccess);
        EXPECT_EQ(f(nullptr, nullptr, 0, 0), cudaSuccess);  // n == 0: nothing launched, nothing read
        EXPECT_EQ(f(buf.p, buf.p, -1, 0), cudaErrorInvalidValue);
    }
}
