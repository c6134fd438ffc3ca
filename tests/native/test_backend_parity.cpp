// Backend parity (ggml's test-backend-ops idea): every op of the C API runs on the same random inputs on
// the CPU backend and on each device backend (the emulated CUDA device always, CUDA device 0 when
// dd_cuda_probe(0) says it is usable); the device's results are read back and compared with the CPU's.
//
// Tolerances. Both backends compute in fp32. Where the other tests bound an op's fp32 error against the
// double reference by a tolerance `tol` (relative to the reference's magnitude: the sum of |terms| an
// output is a reduction of), the two backends are each within `tol` of the exact value, so within 2 * tol
// of each other; those ops reuse the reference's magnitude with twice that tolerance (the reference is
// only used for the magnitude; the value compared against is the CPU's). Copies, gathers, single adds and
// single multiplies are exact in IEEE fp32 whatever the kernel, so they must agree bit for bit; the
// integer outputs of the routing ops (select_tokens, topk_rows) likewise.
//
// The GEMM-based ops run with dd_set_gemm_precision(device, DD_PRECISION_FP32) (the fixture sets it and
// restores the library default, TF32, afterwards); two tests check the TF32 and BF16 modes separately.
//
// Sizes are small: the emulated device runs about a million warp collectives per second on two cores.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <numeric>
#include <sstream>
#include <string>

#include "compare.h"
#include "dyndit/dyndit_vae.h"
#include "reference.h"
#include "reference_routing.h"
#include "test_support.h"

namespace {

using namespace ddtest;
using ddref::Blocks;

std::vector<Backend> parity_devices() {
    return {{"cuda_emu", DD_DEVICE_CUDA_EMU, 0}, {"cuda0", DD_DEVICE_CUDA, 0}};
}

std::string device_unavailable(const Backend& b) {
    const dd_status s = b.device_type == DD_DEVICE_CUDA_EMU ? dd_cuda_emu_load(nullptr) : dd_cuda_probe(b.device_index);
    if (s == DD_OK) return "";
    std::string why = dd_last_error();
    dd_clear_error();
    return why;
}

const Backend kCpu{"cpu", DD_DEVICE_CPU, 0};

// The same tensor on the CPU ([0]) and on the device ([1]).
struct Pair {
    Tensor c, d;
    dd_tensor* operator[](int side) const { return side ? d.get() : c.get(); }
};

// Runs `call` (an expression in S: 0 = CPU, 1 = device) on both backends; both must succeed.
#define PARITY_BOTH(call)                                                                                      \
    for (int S = 0; S < 2; ++S) {                                                                              \
        const dd_status parity_st_ = (call);                                                                   \
        ASSERT_EQ(parity_st_, DD_OK) << (S ? GetParam().name : "cpu") << ": " #call " -> "                    \
                                     << dd_status_name(parity_st_) << ": " << dd_last_error();                \
    }

// Device result within `tol` of the CPU result, the allowance scaled by `magnitude` (the reference's sum
// of |terms|; empty: max(1, |cpu|)).
testing::AssertionResult Close(const std::vector<float>& dev, const std::vector<float>& cpu,
                               const std::vector<double>& magnitude, Tolerance tol) {
    ddref::Expected e = ddref::sized(cpu.size());
    for (size_t i = 0; i < cpu.size(); ++i) {
        e.value[i] = cpu[i];
        e.magnitude[i] = magnitude.empty() ? std::max(1.0, std::fabs((double)cpu[i])) : magnitude[i];
    }
    if (dev.size() != cpu.size()) return testing::AssertionFailure() << "device/cpu sizes differ";
    return AllClose(dev, e, tol);
}

template <class T>
testing::AssertionResult BitEqual(const std::vector<T>& dev, const std::vector<T>& cpu) {
    if (dev.size() != cpu.size())
        return testing::AssertionFailure() << "sizes differ: device " << dev.size() << ", cpu " << cpu.size();
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < dev.size(); ++i)
        if (std::memcmp(&dev[i], &cpu[i], sizeof(T)) != 0) {
            if (!bad) first = i;
            ++bad;
        }
    if (!bad) return testing::AssertionSuccess();
    std::ostringstream os;
    os.precision(9);
    os << bad << " of " << dev.size() << " elements differ; first [" << first << "]: device " << dev[first]
       << ", cpu " << cpu[first];
    return testing::AssertionFailure() << os.str();
}

// Two backends each within `t` of the exact value are within twice `t` of each other.
Tolerance twice(Tolerance t) { return {2 * t.rtol, 2 * t.per_magnitude, 2 * t.atol}; }

// Tolerances of the per-op tests against the double reference (see the file they come from for why each
// bounds the fp32 error); parity allows twice each.
constexpr Tolerance kGemmRef{1e-5, 1e-5, 0};          // test_linear.cpp (K <= ~300: gamma_K*sum|xw| <= 1.8e-5 * mag worst case, ~1e-6 typical)
constexpr Tolerance kSlicedGemmRef{0, 1e-5, 0};       // test_sliced_ops.cpp
constexpr Tolerance kLayerNormRef{1e-5, 1e-5, 0};     // test_layernorm_modulate.cpp
constexpr Tolerance kActivationRef{1e-5, 0, 1e-12};   // test_activations.cpp
constexpr Tolerance kSigmoidRef{4e-7, 0, FLT_MIN};    // test_routing_ops.cpp
constexpr Tolerance kAxpyRef{1e-6, 1e-6, 0};          // test_gated_residual_add.cpp
constexpr Tolerance kAttentionRef{1e-5, 1e-5, 0};     // test_attention.cpp
constexpr Tolerance kScatterRef{1e-5, 1e-5, 0};       // test_rows.cpp
constexpr Tolerance kTimestepRef{0, 1e-6, 1e-6};      // test_layout_ops.cpp
constexpr Tolerance kConvRef{1e-6, 1e-5, 0};          // test_vae_ops.cpp
// GroupNorm: outputs are (x - mean) * rstd * gamma + beta of O(1); the fp32 mean and variance over a group
// of <= 160 values are within ~160 * 2^-24 = 1e-5 relative, so 2e-5 of max(1, |y|) between two backends.
constexpr Tolerance kGroupNormParity{0, 2e-5, 0};

class BackendParity : public testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        const std::string why = device_unavailable(GetParam());
        if (!why.empty()) {
            GTEST_SKIP() << GetParam().name << " is not usable here: " << why;
        }
        ASSERT_EQ(dd_set_gemm_precision(GetParam().device_type, DD_PRECISION_FP32), DD_OK) << dd_last_error();
        precision_set_ = true;
        trace_.emplace(__FILE__, __LINE__,
                       std::string("device=") + GetParam().name + " seed=" + std::to_string(rng.seed()) +
                           " (replay with DYNDIT_TEST_SEED=" + std::to_string(rng.seed()) + ")");
    }
    void TearDown() override {
        trace_.reset();
        if (precision_set_) {
            EXPECT_EQ(dd_set_gemm_precision(GetParam().device_type, DD_PRECISION_TF32), DD_OK) << dd_last_error();
        }
    }

    Pair both(const std::vector<float>& v, const Shape& shape) {
        return {upload_f32(kCpu, v, shape), upload_f32(GetParam(), v, shape)};
    }
    Pair both_i32(const std::vector<int32_t>& v, const Shape& shape) {
        return {upload_i32(kCpu, v, shape), upload_i32(GetParam(), v, shape)};
    }
    static Pair pview(const Pair& p, const Shape& shape, const Shape& strides, int64_t offset) {
        return {view(p.c, shape, strides, offset), view(p.d, shape, strides, offset)};
    }
    // Whole contents of a (contiguous) pair: device first, CPU second.
    template <class T = float>
    static std::pair<std::vector<T>, std::vector<T>> get(const Pair& p) {
        return {download<T>(p.d.get()), download<T>(p.c.get())};
    }
    testing::AssertionResult close(const Pair& p, const std::vector<double>& magnitude, Tolerance tol) {
        auto [dev, cpu] = get(p);
        return Close(dev, cpu, magnitude, tol);
    }
    template <class T = float>
    testing::AssertionResult exact(const Pair& p) {
        auto [dev, cpu] = get<T>(p);
        return BitEqual(dev, cpu);
    }

    Random rng;

private:
    bool precision_set_ = false;
    std::optional<testing::ScopedTrace> trace_;
};

// Magnitude of an output view laid into its dense base: base elements outside the view keep magnitude
// 1 (they must come back unchanged, and are compared with the same tolerance they cannot need).
std::vector<double> embed_magnitude(const std::vector<double>& mag, int64_t rows, int64_t cols, int64_t width,
                                    int64_t col0) {
    std::vector<double> out((size_t)(rows * width), 1.0);
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) out[r * width + col0 + c] = mag[r * cols + c];
    return out;
}

// ---------------------------------------------------------------- dd_linear

TEST_P(BackendParity, LinearDenseWithBias) {
    const int64_t M = 37, N = 71, K = 129;
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Pair x = both(xs, {M, K}), w = both(ws, {N, K}), b = both(bs, {N}), y = both(rng.uniform(M * N, -1, 1), {M, N});
    PARITY_BOTH(dd_linear(x[S], w[S], b[S], y[S]));
    EXPECT_TRUE(close(y, ddref::linear(xs, ws, bs, M, N, K).magnitude, twice(kGemmRef)));
}

// No bias, x a row-strided column window of a wider tensor, y a column window of a wider (prefilled)
// tensor: the columns around y's window must come back unchanged (they compare exactly, magnitude 1 and
// nothing written there). K = 300 sits near the top of what the tolerance is stated for.
TEST_P(BackendParity, LinearNoBiasRowStridedViews) {
    const int64_t M = 19, N = 45, K = 300, XW = K + 13, YW = N + 7, X0 = 5, Y0 = 3;
    auto xbase = rng.uniform(M * XW, -1, 1), ws = rng.uniform(N * K, -1, 1);
    Pair xb = both(xbase, {M, XW}), w = both(ws, {N, K}), yb = both(rng.uniform(M * YW, -1, 1), {M, YW});
    Pair x = pview(xb, {M, K}, {XW, 1}, X0), y = pview(yb, {M, N}, {YW, 1}, Y0);
    PARITY_BOTH(dd_linear(x[S], w[S], nullptr, y[S]));
    const auto ref = ddref::linear(column_slice(xbase, M, XW, X0, K), ws, {}, M, N, K);
    EXPECT_TRUE(close(yb, embed_magnitude(ref.magnitude, M, N, YW, Y0), twice(kGemmRef)));
}

// x [B,T,K] as the second half of every row of [B,T,2K] (leading dims collapse at a uniform row stride).
TEST_P(BackendParity, LinearThreeDimStridedX) {
    const int64_t B = 2, T = 13, N = 40, K = 64;
    auto xbase = rng.uniform(B * T * 2 * K, -2, 2), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Pair xb = both(xbase, {B, T, 2 * K}), w = both(ws, {N, K}), b = both(bs, {N});
    Pair x = pview(xb, {B, T, K}, {T * 2 * K, 2 * K, 1}, K), y = both(rng.uniform(B * T * N, -1, 1), {B, T, N});
    PARITY_BOTH(dd_linear(x[S], w[S], b[S], y[S]));
    EXPECT_TRUE(close(y, ddref::linear(column_slice(xbase, B * T, 2 * K, K, K), ws, bs, B * T, N, K).magnitude,
                      twice(kGemmRef)));
}

// ---------------------------------------------------------------- sliced GEMMs (DyDiT)

// Kept heads of a qkv projection: heads {0, 2, 5} of 6 (Dh = 8) in each of q, k, v, as DyDiT's head
// slicing reads w_qkv [3D, K]; then a list with an empty, adjacent, repeated and out-of-order block.
TEST_P(BackendParity, LinearOutBlocksHeadSlices) {
    const int64_t M = 21, H = 6, Dh = 8, D = H * Dh, K = 48;
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(3 * D * K, -1, 1), bs = rng.uniform(3 * D, -1, 1);
    Pair x = both(xs, {M, K}), w = both(ws, {3 * D, K}), b = both(bs, {3 * D});
    Blocks heads;
    for (int64_t s = 0; s < 3; ++s)
        for (int64_t h : {0, 2, 5}) heads.push_back(s * D + h * Dh), heads.push_back(Dh);
    const Blocks odd = {100, 13, 0, 7, 7, 0, 7, 9, 143, 1, 45, 5, 45, 5};
    for (const Blocks* blocks : std::vector<const Blocks*>{&heads, &odd}) {
        SCOPED_TRACE(blocks == &heads ? "head slices" : "out-of-order/empty/adjacent/repeated blocks");
        const int64_t total = ddref::block_total(*blocks);
        const int nb = (int)blocks->size() / 2;
        for (bool bias : {true, false}) {
            Pair y = both(rng.uniform(M * total, -1, 1), {M, total});
            PARITY_BOTH(dd_linear_out_blocks(x[S], w[S], bias ? b[S] : nullptr, blocks->data(), nb, y[S]));
            EXPECT_TRUE(close(y, ddref::linear_out_blocks(xs, ws, bias ? bs : std::vector<float>{}, *blocks, M, K).magnitude,
                              twice(kSlicedGemmRef)))
                << (bias ? "with bias" : "without bias");
        }
    }
}

// An empty block list: y has no columns ([M, 0]); both backends accept it and write nothing.
TEST_P(BackendParity, LinearOutBlocksEmptyList) {
    const int64_t M = 5, N = 9, K = 16;
    Pair x = both(rng.uniform(M * K, -1, 1), {M, K}), w = both(rng.uniform(N * K, -1, 1), {N, K});
    Pair y{new_tensor(kCpu, DD_F32, {M, 0}), new_tensor(GetParam(), DD_F32, {M, 0})};
    const int64_t none[2] = {0, 0};
    PARITY_BOTH(dd_linear_out_blocks(x[S], w[S], nullptr, none, 0, y[S]));
}

// Input-column groups of an MLP's fc2 (hidden 96 in groups of 16, DyDiT channel slicing), with and
// without bias, and the empty list (y = bias).
TEST_P(BackendParity, LinearInBlocksGroupSlices) {
    const int64_t M = 23, O = 37, Hd = 96;
    auto ws = rng.uniform(O * Hd, -1, 1), bs = rng.uniform(O, -1, 1);
    Pair w = both(ws, {O, Hd}), b = both(bs, {O});
    const Blocks groups = {80, 16, 16, 16, 48, 32, 0, 0};
    {
        const int64_t total = ddref::block_total(groups);
        auto xs = rng.uniform(M * total, -1, 1);
        Pair x = both(xs, {M, total});
        for (bool bias : {true, false}) {
            Pair y = both(rng.uniform(M * O, -1, 1), {M, O});
            PARITY_BOTH(dd_linear_in_blocks(x[S], w[S], bias ? b[S] : nullptr, groups.data(), 4, y[S]));
            EXPECT_TRUE(close(y, ddref::linear_in_blocks(xs, ws, bias ? bs : std::vector<float>{}, groups, M, O, Hd).magnitude,
                              twice(kSlicedGemmRef)))
                << (bias ? "with bias" : "without bias");
        }
    }
    {
        SCOPED_TRACE("empty block list: y = bias");
        Pair x{new_tensor(kCpu, DD_F32, {M, 0}), new_tensor(GetParam(), DD_F32, {M, 0})};
        Pair y = both(rng.uniform(M * O, -1, 1), {M, O});
        const int64_t none[2] = {0, 0};
        PARITY_BOTH(dd_linear_in_blocks(x[S], w[S], b[S], none, 0, y[S]));
        EXPECT_TRUE(exact(y));
    }
}

// ---------------------------------------------------------------- LayerNorm + adaLN modulation

// shift and scale are chunks 0 and 1 of the adaLN output [N, 6D] (row stride 6D), as the DiT block reads
// them; then plain LayerNorm (both NULL) in place.
TEST_P(BackendParity, LayerNormModulateAdaLnChunks) {
    const int64_t N = 2, T = 19, D = 96;
    auto xs = rng.uniform(N * T * D, -3, 3), ada = rng.uniform(N * 6 * D, -1, 1);
    Pair x = both(xs, {N, T, D}), a = both(ada, {N, 6 * D}), y = both(rng.uniform(N * T * D, -1, 1), {N, T, D});
    Pair shift = pview(a, {N, D}, {6 * D, 1}, 0), scale = pview(a, {N, D}, {6 * D, 1}, D);
    PARITY_BOTH(dd_layernorm_modulate(x[S], shift[S], scale[S], 1e-6f, y[S]));
    EXPECT_TRUE(close(y,
                      ddref::layernorm_modulate(xs, column_slice(ada, N, 6 * D, 0, D), column_slice(ada, N, 6 * D, D, D),
                                                N, T, D, 1e-6)
                          .magnitude,
                      twice(kLayerNormRef)));
    PARITY_BOTH(dd_layernorm_modulate(x[S], nullptr, nullptr, 1e-6f, x[S]));
    EXPECT_TRUE(close(x, ddref::layernorm_modulate(xs, {}, {}, N, T, D, 1e-6).magnitude, twice(kLayerNormRef)));
}

// Ragged rows: each row picks its sample's shift/scale (chunks 3 and 4 of [S, 6D]); then in place.
TEST_P(BackendParity, LayerNormModulateRows) {
    const int64_t Kr = 23, D = 72, Sm = 3;
    auto xs = rng.uniform(Kr * D, -2, 2), ada = rng.uniform(Sm * 6 * D, -1, 1);
    auto rs = rng.indices(Kr, (int32_t)Sm);
    Pair x = both(xs, {Kr, D}), a = both(ada, {Sm, 6 * D}), r = both_i32(rs, {Kr});
    Pair y = both(rng.uniform(Kr * D, -1, 1), {Kr, D});
    Pair shift = pview(a, {Sm, D}, {6 * D, 1}, 3 * D), scale = pview(a, {Sm, D}, {6 * D, 1}, 4 * D);
    const auto mag = ddref::layernorm_modulate_rows(xs, column_slice(ada, Sm, 6 * D, 3 * D, D),
                                                    column_slice(ada, Sm, 6 * D, 4 * D, D), rs, Kr, D, 1e-6)
                         .magnitude;
    PARITY_BOTH(dd_layernorm_modulate_rows(x[S], shift[S], scale[S], r[S], 1e-6f, y[S]));
    EXPECT_TRUE(close(y, mag, twice(kLayerNormRef)));
    PARITY_BOTH(dd_layernorm_modulate_rows(x[S], shift[S], scale[S], r[S], 1e-6f, x[S]));
    EXPECT_TRUE(close(x, mag, twice(kLayerNormRef)));
}

// ---------------------------------------------------------------- element-wise

// Out of place, then in place, on values across the interesting range of each function (|x| up to 9,
// where GELU's and SiLU's negative tails are small).
TEST_P(BackendParity, ActivationsGeluSiluSigmoidRelu) {
    const int64_t n = 1037;
    auto xs = rng.uniform(n, -9, 9);
    xs[0] = 0.f, xs[1] = -0.f, xs[2] = 1e-30f, xs[3] = -1e-30f;  // zero tolerance on either side of 0
    struct Act {
        const char* name;
        dd_status (*fn)(const dd_tensor*, dd_tensor*);
        std::vector<double> mag;
        Tolerance tol;
        bool exact;
    };
    const std::vector<Act> acts = {
        {"gelu_tanh", dd_gelu_tanh, ddref::gelu_tanh(xs).magnitude, twice(kActivationRef), false},
        {"silu", dd_silu, ddref::silu(xs).magnitude, twice(kActivationRef), false},
        {"sigmoid", dd_sigmoid, ddref::sigmoid(xs).magnitude, twice(kSigmoidRef), false},
        {"relu", dd_relu, {}, {}, true},
    };
    for (const Act& act : acts) {
        SCOPED_TRACE(act.name);
        for (bool in_place : {false, true}) {
            Pair x = both(xs, {n}), y = both(rng.uniform(n, -1, 1), {n});
            const Pair& out = in_place ? x : y;
            PARITY_BOTH(act.fn(x[S], out[S]));
            if (act.exact)
                EXPECT_TRUE(exact(out)) << (in_place ? "in place" : "out of place");
            else
                EXPECT_TRUE(close(out, act.mag, act.tol)) << (in_place ? "in place" : "out of place");
        }
    }
}

// h += gate * x with the gate a chunk (2) of adaLN [N, 6D]; then gate NULL (plain residual add, exact).
TEST_P(BackendParity, GatedResidualAdd) {
    const int64_t N = 2, T = 17, D = 80;
    auto hs = rng.uniform(N * T * D, -2, 2), xs = rng.uniform(N * T * D, -2, 2), ada = rng.uniform(N * 6 * D, -1, 1);
    Pair h = both(hs, {N, T, D}), x = both(xs, {N, T, D}), a = both(ada, {N, 6 * D});
    Pair gate = pview(a, {N, D}, {6 * D, 1}, 2 * D);
    PARITY_BOTH(dd_gated_residual_add(h[S], gate[S], x[S]));
    EXPECT_TRUE(close(h, ddref::gated_residual_add(hs, column_slice(ada, N, 6 * D, 2 * D, D), xs, N, T, D).magnitude,
                      twice(kAxpyRef)));
    Pair h2 = both(hs, {N, T, D});
    PARITY_BOTH(dd_gated_residual_add(h2[S], nullptr, x[S]));
    EXPECT_TRUE(exact(h2));
}

// ---------------------------------------------------------------- attention

// q, k, v as [N,T,H,Dh] views of one packed qkv [N,T,3,H,Dh] (DiT's qkv Linear layout).
TEST_P(BackendParity, AttentionPackedQkv) {
    struct Case {
        int64_t N, T, H, Dh;
    };
    for (const Case c : {Case{2, 70, 3, 8}, Case{1, 33, 2, 64}, Case{1, 69, 2, 72}, Case{2, 1, 2, 72}, Case{1, 130, 2, 64}}) {
        SCOPED_TRACE("N=" + std::to_string(c.N) + " T=" + std::to_string(c.T) + " H=" + std::to_string(c.H) +
                     " Dh=" + std::to_string(c.Dh));
        const int64_t D = c.H * c.Dh;
        const auto packed = rng.uniform(c.N * c.T * 3 * D, -2, 2);
        const float scale = 1.0f / std::sqrt((float)c.Dh);
        Pair qkv = both(packed, {c.N, c.T, 3, c.H, c.Dh});
        Pair out = both(rng.uniform(c.N * c.T * D, -1, 1), {c.N, c.T, c.H, c.Dh});
        auto part = [&](int s) { return pview(qkv, {c.N, c.T, c.H, c.Dh}, {c.T * 3 * D, 3 * D, c.Dh, 1}, s * D); };
        Pair q = part(0), k = part(1), v = part(2);
        PARITY_BOTH(dd_attention(q[S], k[S], v[S], scale, out[S]));
        auto host = [&](int s) { return column_slice(packed, c.N * c.T, 3 * D, s * D, D); };
        EXPECT_TRUE(close(out, ddref::attention(host(0), host(1), host(2), c.N, c.T, c.H, c.Dh, scale).magnitude,
                          twice(kAttentionRef)));
    }
}

// Head dims above the flash kernel's 128 (the SD-VAE's single 512-channel head) run on the device as
// S = Q K^T, row softmax, O = S V through the GEMM kernel; q, k, v dense [N,T,1,Dh] as the VAE passes them.
TEST_P(BackendParity, AttentionWideHeadByGemm) {
    for (int64_t Dh : {160, 512}) {
        SCOPED_TRACE("Dh=" + std::to_string(Dh));
        const int64_t N = 2, T = 40;
        const float scale = 1.0f / std::sqrt((float)Dh);
        const auto hq = rng.uniform(N * T * Dh, -2, 2), hk = rng.uniform(N * T * Dh, -2, 2),
                   hv = rng.uniform(N * T * Dh, -2, 2);
        Pair q = both(hq, {N, T, 1, Dh}), k = both(hk, {N, T, 1, Dh}), v = both(hv, {N, T, 1, Dh});
        Pair out = both(rng.uniform(N * T * Dh, -1, 1), {N, T, 1, Dh});
        PARITY_BOTH(dd_attention(q[S], k[S], v[S], scale, out[S]));
        EXPECT_TRUE(close(out, ddref::attention(hq, hk, hv, N, T, 1, Dh, scale).magnitude, twice(kAttentionRef)));
    }
}

// Sequences back to back (lengths 23, 1, 9, then 5, 28) in packed [R,3,H,Dh]; cu_seqlens lives on the host.
TEST_P(BackendParity, AttentionVarlen) {
    for (int64_t Dh : {8, 64}) {
        SCOPED_TRACE("Dh=" + std::to_string(Dh));
        // a different split per round: the device keeps the last upload and must notice the change
        const std::vector<int32_t> cu = Dh == 8 ? std::vector<int32_t>{0, 23, 24, 33} : std::vector<int32_t>{0, 5, 33};
        const int64_t R = 33, H = 3, D = H * Dh;
        const auto packed = rng.uniform(R * 3 * D, -2, 2);
        const float scale = 1.0f / std::sqrt((float)Dh);
        Pair qkv = both(packed, {R, 3, H, Dh}), out = both(rng.uniform(R * D, -1, 1), {R, H, Dh});
        Tensor cus = upload_i32(kCpu, cu, {(int64_t)cu.size()});
        auto part = [&](int s) { return pview(qkv, {R, H, Dh}, {3 * D, Dh, 1}, s * D); };
        Pair q = part(0), k = part(1), v = part(2);
        PARITY_BOTH(dd_attention_varlen(q[S], k[S], v[S], cus.get(), scale, out[S]));
        std::vector<double> mag;
        for (size_t b = 0; b + 1 < cu.size(); ++b) {
            const int64_t r0 = cu[b], len = cu[b + 1] - cu[b];
            std::vector<float> seq(packed.begin() + r0 * 3 * D, packed.begin() + (r0 + len) * 3 * D);
            auto host = [&](int s) { return column_slice(seq, len, 3 * D, s * D, D); };
            const auto m = ddref::attention(host(0), host(1), host(2), 1, len, H, Dh, scale).magnitude;
            mag.insert(mag.end(), m.begin(), m.end());
        }
        EXPECT_TRUE(close(out, mag, twice(kAttentionRef)));
    }
}

// ---------------------------------------------------------------- row ops

// src a row-strided view; indices repeat.
TEST_P(BackendParity, GatherRows) {
    const int64_t R = 41, D = 72, W = 80, K = 57;
    Pair sb = both(rng.uniform(R * W, -5, 5), {R, W}), idx = both_i32(rng.indices(K, (int32_t)R), {K});
    Pair src = pview(sb, {R, D}, {W, 1}, 4), dst = both(rng.uniform(K * D, -1, 1), {K, D});
    PARITY_BOTH(dd_gather_rows(src[S], idx[S], dst[S]));
    EXPECT_TRUE(exact(dst));
}

// dst[index[i]] += gate[row_sample[i]] * src[i], the gate a chunk (5) of adaLN [S, 6D]: distinct indices
// (the forward's case), then repeated ones (atomic adds on the device: any order, within the tolerance).
TEST_P(BackendParity, ScatterAddRowsWithGate) {
    const int64_t R = 50, D = 64, Sm = 3, K = 31;
    auto ada = rng.uniform(Sm * 6 * D, -1, 1);
    Pair a = both(ada, {Sm, 6 * D});
    Pair gate = pview(a, {Sm, D}, {6 * D, 1}, 5 * D);
    const auto gate_h = column_slice(ada, Sm, 6 * D, 5 * D, D);
    std::vector<int32_t> perm(R);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(rng.seed()));
    const std::vector<int32_t> distinct(perm.begin(), perm.begin() + K);
    const std::vector<std::vector<int32_t>> index_sets = {distinct, rng.indices(K, 7)};
    for (size_t set = 0; set < index_sets.size(); ++set) {
        const auto& index = index_sets[set];
        SCOPED_TRACE(set == 0 ? "distinct indices" : "repeated indices");
        auto ds = rng.uniform(R * D, -2, 2), ss = rng.uniform(K * D, -2, 2);
        auto rs = rng.indices(K, (int32_t)Sm);
        Pair dst = both(ds, {R, D}), src = both(ss, {K, D}), idx = both_i32(index, {K}), r = both_i32(rs, {K});
        PARITY_BOTH(dd_scatter_add_rows(dst[S], idx[S], src[S], gate[S], r[S]));
        EXPECT_TRUE(close(dst, ddref::scatter_add_rows(ds, index, ss, gate_h, rs, D).magnitude, twice(kScatterRef)));
        // without gate (g = 1)
        Pair dst2 = both(ds, {R, D});
        PARITY_BOTH(dd_scatter_add_rows(dst2[S], idx[S], src[S], nullptr, nullptr));
        EXPECT_TRUE(close(dst2, ddref::scatter_add_rows(ds, index, ss, {}, {}, D).magnitude, twice(kScatterRef)));
    }
}

TEST_P(BackendParity, ScatterRowsAndScaleRows) {
    const int64_t R = 47, D = 40, W = 48, K = 30;
    std::vector<int32_t> perm(R);
    std::iota(perm.begin(), perm.end(), 0);
    std::shuffle(perm.begin(), perm.end(), std::mt19937(rng.seed() + 1));
    perm.resize(K);
    Pair db = both(rng.uniform(R * W, -3, 3), {R, W}), src = both(rng.uniform(K * D, -3, 3), {K, D});
    Pair idx = both_i32(perm, {K});
    Pair dst = pview(db, {R, D}, {W, 1}, 8);
    PARITY_BOTH(dd_scatter_rows(dst[S], idx[S], src[S]));
    EXPECT_TRUE(exact(db)) << "scatter_rows";
    // x *= s per row on the same row-strided view: one fp32 multiply per element, exact.
    Pair s = both(rng.uniform(R, -2, 2), {R});
    PARITY_BOTH(dd_scale_rows(dst[S], s[S]));
    EXPECT_TRUE(exact(db)) << "scale_rows";
}

// ---------------------------------------------------------------- layout ops

TEST_P(BackendParity, PatchifyAndUnpatchify) {
    const int64_t N = 2, C = 4, Hh = 8, Ww = 12, Co = 3;
    for (int64_t p : {1, 2, 4}) {
        SCOPED_TRACE("p=" + std::to_string(p));
        const int64_t L = (Hh / p) * (Ww / p);
        Pair x = both(rng.uniform(N * C * Hh * Ww, -1, 1), {N, C, Hh, Ww});
        Pair tok = both(rng.uniform(N * L * C * p * p, -1, 1), {N, L, C * p * p});
        PARITY_BOTH(dd_patchify(x[S], (int)p, tok[S]));
        EXPECT_TRUE(exact(tok)) << "patchify";
        // unpatchify from a token-strided view (the final layer's output inside a wider buffer)
        const int64_t row = p * p * Co, TW = row + 5;
        Pair tb = both(rng.uniform(N * L * TW, -1, 1), {N, L, TW});
        Pair tokens = pview(tb, {N, L, row}, {L * TW, TW, 1}, 2);
        Pair img = both(rng.uniform(N * Co * Hh * Ww, -1, 1), {N, Co, Hh, Ww});
        PARITY_BOTH(dd_unpatchify(tokens[S], (int)p, img[S]));
        EXPECT_TRUE(exact(img)) << "unpatchify";
    }
}

// t from 0 to 999 (DiT's range), odd dim (zero column appended).
TEST_P(BackendParity, TimestepEmbedding) {
    const int64_t dim = 257;
    std::vector<float> ts = {0.f, 1.f, 999.f, 500.5f, 3.25f};
    for (float v : rng.uniform(4, 0, 999)) ts.push_back(v);
    const int64_t N = (int64_t)ts.size();
    Pair t = both(ts, {N}), out = both(rng.uniform(N * dim, -1, 1), {N, dim});
    PARITY_BOTH(dd_timestep_embedding(t[S], 10000.f, out[S]));
    EXPECT_TRUE(close(out, ddref::timestep_embedding(ts, dim, 10000.0).magnitude, twice(kTimestepRef)));
}

// y[n] += b (pos_embed); y a token-strided view. One add per element: exact.
TEST_P(BackendParity, AddBroadcast) {
    const int64_t N = 3, R = 16, D = 48, W = 56;
    Pair yb = both(rng.uniform(N * R * W, -1, 1), {N, R, W}), b = both(rng.uniform(R * D, -1, 1), {R, D});
    Pair y = pview(yb, {N, R, D}, {R * W, W, 1}, 8);
    PARITY_BOTH(dd_add_broadcast(y[S], b[S]));
    EXPECT_TRUE(exact(yb));
}

// ---------------------------------------------------------------- routing

// Kept iff sigmoid(logit) > 0.5 in fp32: logits include values within a few ulps of 0 and both zeros.
// Index, row_sample and counts must be identical, also the untouched tail (prefilled -7).
TEST_P(BackendParity, SelectTokens) {
    const int64_t N = 3, T = 50, W = 64;
    auto base = rng.uniform(N * W, -4, 4);
    const float near0[] = {0.f, -0.f, FLT_MIN, -FLT_MIN, 1e-30f, -1e-30f, 1e-8f, -1e-8f, 3e-8f, -3e-8f,
                           6e-8f, -6e-8f, 1.2e-7f, -1.2e-7f, FLT_TRUE_MIN, -FLT_TRUE_MIN};
    auto pos = rng.indices(40, (int32_t)(N * W));
    for (size_t i = 0; i < pos.size(); ++i) base[pos[i]] = near0[i % (sizeof near0 / sizeof *near0)];
    base[0] = -50.f;  // outside the view (offset 3): only a kernel ignoring the offset reads it
    Pair lb = both(base, {N, W});
    Pair logits = pview(lb, {N, T}, {W, 1}, 3);
    const std::vector<int32_t> fill(N * T, -7);
    Pair index = both_i32(fill, {N * T}), rows = both_i32(fill, {N * T}), counts = both_i32({-7, -7, -7}, {N});
    PARITY_BOTH(dd_select_tokens(logits[S], index[S], rows[S], counts[S]));
    EXPECT_TRUE(exact<int32_t>(index)) << "index";
    EXPECT_TRUE(exact<int32_t>(rows)) << "row_sample";
    EXPECT_TRUE(exact<int32_t>(counts)) << "counts";
}

// Scores quantised to 5 levels (many ties: lower index first), row-strided, k from 1 to T.
TEST_P(BackendParity, TopkRowsWithTies) {
    const int64_t N = 4, T = 37, W = 40;
    std::vector<float> sb(N * W);
    const auto q = rng.indices(N * W, 5);
    for (size_t i = 0; i < sb.size(); ++i) sb[i] = 0.25f * (float)q[i] - 0.5f;
    Pair base = both(sb, {N, W});
    Pair scores = pview(base, {N, T}, {W, 1}, 1);
    for (int k : {1, 5, 18, 37}) {
        SCOPED_TRACE("k=" + std::to_string(k));
        Pair index = both_i32(std::vector<int32_t>(N * k, -7), {N, k});
        PARITY_BOTH(dd_topk_rows(scores[S], k, index[S]));
        EXPECT_TRUE(exact<int32_t>(index));
    }
}

// ---------------------------------------------------------------- VAE ops

// y = conv(x, w) + bias + residual; magnitude = |bias| + |residual| + sum |w x| per output.
std::vector<double> conv_magnitude(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& b,
                                   const std::vector<float>& res, int64_t N, int64_t Ci, int64_t Co, int64_t H,
                                   int64_t W, int64_t k) {
    std::vector<double> m((size_t)(N * Co * H * W));
    const int64_t pad = (k - 1) / 2;
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < Co; ++o)
            for (int64_t i = 0; i < H; ++i)
                for (int64_t j = 0; j < W; ++j) {
                    const size_t at = (size_t)(((n * Co + o) * H + i) * W + j);
                    double a = (b.empty() ? 0 : std::fabs(b[o])) + (res.empty() ? 0 : std::fabs(res[at]));
                    for (int64_t c = 0; c < Ci; ++c)
                        for (int64_t u = 0; u < k; ++u)
                            for (int64_t v = 0; v < k; ++v) {
                                const int64_t ii = i + u - pad, jj = j + v - pad;
                                if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                                a += std::fabs((double)w[((o * Ci + c) * k + u) * k + v] * x[((n * Ci + c) * H + ii) * W + jj]);
                            }
                    m[at] = a;
                }
    return m;
}

TEST_P(BackendParity, Conv2d3x3And1x1) {
    struct Case {
        int64_t N, Ci, Co, H, W, k;
    };
    for (const Case c : {Case{2, 8, 6, 9, 11, 3}, Case{1, 16, 12, 7, 10, 1}}) {
        SCOPED_TRACE(std::to_string(c.k) + "x" + std::to_string(c.k));
        auto xs = rng.uniform(c.N * c.Ci * c.H * c.W, -1, 1), ws = rng.uniform(c.Co * c.Ci * c.k * c.k, -1, 1);
        auto bs = rng.uniform(c.Co, -1, 1), rs = rng.uniform(c.N * c.Co * c.H * c.W, -1, 1);
        const Shape ys = {c.N, c.Co, c.H, c.W};
        Pair x = both(xs, {c.N, c.Ci, c.H, c.W}), w = both(ws, {c.Co, c.Ci, c.k, c.k}), b = both(bs, {c.Co});
        Pair res = both(rs, ys);
        {
            SCOPED_TRACE("bias, no residual");
            Pair y = both(rng.uniform(numel(ys), -1, 1), ys);
            PARITY_BOTH(dd_conv2d(x[S], w[S], b[S], nullptr, y[S]));
            EXPECT_TRUE(close(y, conv_magnitude(xs, ws, bs, {}, c.N, c.Ci, c.Co, c.H, c.W, c.k), twice(kConvRef)));
        }
        {
            SCOPED_TRACE("bias and a separate residual");
            Pair y = both(rng.uniform(numel(ys), -1, 1), ys);
            PARITY_BOTH(dd_conv2d(x[S], w[S], b[S], res[S], y[S]));
            EXPECT_TRUE(close(y, conv_magnitude(xs, ws, bs, rs, c.N, c.Ci, c.Co, c.H, c.W, c.k), twice(kConvRef)));
        }
        {
            SCOPED_TRACE("no bias, residual == y (y += conv)");
            Pair y = both(rs, ys);
            PARITY_BOTH(dd_conv2d(x[S], w[S], nullptr, y[S], y[S]));
            EXPECT_TRUE(close(y, conv_magnitude(xs, ws, {}, rs, c.N, c.Ci, c.Co, c.H, c.W, c.k), twice(kConvRef)));
        }
    }
}

TEST_P(BackendParity, GroupNormWithAndWithoutSilu) {
    const int64_t N = 2, C = 16, H = 5, W = 7, G = 4;
    auto xs = rng.uniform(N * C * H * W, -3, 3);
    Pair x = both(xs, {N, C, H, W}), g = both(rng.uniform(C, 0.5f, 1.5f), {C}), b = both(rng.uniform(C, -1, 1), {C});
    for (int silu : {0, 1}) {
        SCOPED_TRACE(silu ? "with SiLU" : "without SiLU");
        Pair y = both(rng.uniform(N * C * H * W, -1, 1), {N, C, H, W});
        PARITY_BOTH(dd_group_norm(x[S], g[S], b[S], (int)G, 1e-6f, silu, y[S]));
        EXPECT_TRUE(close(y, {}, kGroupNormParity));
    }
    SCOPED_TRACE("no affine, in place");
    PARITY_BOTH(dd_group_norm(x[S], nullptr, nullptr, (int)G, 1e-5f, 1, x[S]));
    EXPECT_TRUE(close(x, {}, kGroupNormParity));
}

TEST_P(BackendParity, UpsampleNearest2x) {
    const int64_t N = 2, C = 5, H = 6, W = 9;
    Pair x = both(rng.uniform(N * C * H * W, -1, 1), {N, C, H, W});
    Pair y = both(rng.uniform(N * C * 4 * H * W, -1, 1), {N, C, 2 * H, 2 * W});
    PARITY_BOTH(dd_upsample_nearest2x(x[S], y[S]));
    EXPECT_TRUE(exact(y));
}

// x^T, x^T + residual, and y += x^T (residual == y): one add per element, exact.
TEST_P(BackendParity, TransposeLast2WithResiduals) {
    const int64_t B = 2, R = 12, Sd = 35;
    Pair x = both(rng.uniform(B * R * Sd, -1, 1), {B, R, Sd}), res = both(rng.uniform(B * Sd * R, -1, 1), {B, Sd, R});
    Pair y = both(rng.uniform(B * Sd * R, -1, 1), {B, Sd, R});
    PARITY_BOTH(dd_transpose_last2(x[S], nullptr, y[S]));
    EXPECT_TRUE(exact(y)) << "residual NULL";
    PARITY_BOTH(dd_transpose_last2(x[S], res[S], y[S]));
    EXPECT_TRUE(exact(y)) << "separate residual";
    PARITY_BOTH(dd_transpose_last2(x[S], y[S], y[S]));
    EXPECT_TRUE(exact(y)) << "residual == y";
}

// ---------------------------------------------------------------- GEMM precision modes

// dd_linear on the device in `precision` against the CPU's fp32, within `rel` of sum |x w| + |b|, and not
// bit-identical to the device's own fp32 result.
void check_reduced_precision(const Backend& dev, Random& rng, int precision, double rel) {
    const int64_t M = 33, N = 40, K = 200;
    auto xs = rng.uniform(M * K, -1, 1), ws = rng.uniform(N * K, -1, 1), bs = rng.uniform(N, -1, 1);
    Tensor xc = upload_f32(kCpu, xs, {M, K}), wc = upload_f32(kCpu, ws, {N, K}), bc = upload_f32(kCpu, bs, {N});
    Tensor xd = upload_f32(dev, xs, {M, K}), wd = upload_f32(dev, ws, {N, K}), bd = upload_f32(dev, bs, {N});
    Tensor yc = new_tensor(kCpu, DD_F32, {M, N}), y32 = new_tensor(dev, DD_F32, {M, N}), yr = new_tensor(dev, DD_F32, {M, N});
    ASSERT_EQ(dd_linear(xc.get(), wc.get(), bc.get(), yc.get()), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_set_gemm_precision(dev.device_type, DD_PRECISION_FP32), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_linear(xd.get(), wd.get(), bd.get(), y32.get()), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_set_gemm_precision(dev.device_type, precision), DD_OK) << dd_last_error();
    const dd_status s = dd_linear(xd.get(), wd.get(), bd.get(), yr.get());
    ASSERT_EQ(dd_set_gemm_precision(dev.device_type, DD_PRECISION_FP32), DD_OK) << dd_last_error();
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    const auto cpu = download(yc.get()), fp32 = download(y32.get()), reduced = download(yr.get());
    EXPECT_TRUE(Close(reduced, cpu, ddref::linear(xs, ws, bs, M, N, K).magnitude, {0, rel, 0}));
    EXPECT_FALSE(BitEqual(reduced, fp32)) << "the device's result in precision " << precision
                                          << " is bit-identical to fp32: the switch had no effect";
}

// TF32 keeps 10 explicit mantissa bits: each operand is rounded with unit roundoff 2^-11 = 4.9e-4 (2^-10
// if truncated), so a product is off by at most ~2 * 4.9e-4 = 9.8e-4 of |x w|, and with fp32 accumulation
// (gamma_K ~ 1.2e-5 for K = 200) the output by ~1e-3 of sum |x w| + |b|; 2e-3 leaves a factor two.
TEST_P(BackendParity, LinearTf32WithinTf32Rounding) {
    check_reduced_precision(GetParam(), rng, DD_PRECISION_TF32, 2e-3);
}

// BF16 keeps 7 explicit mantissa bits (8 with the implicit one): unit roundoff 2^-9 = 2e-3 per operand,
// ~4e-3 per product (8e-3 if truncated), plus fp32 accumulation; 1.5e-2 of sum |x w| + |b| covers it.
TEST_P(BackendParity, LinearBf16WithinBf16Rounding) {
    check_reduced_precision(GetParam(), rng, DD_PRECISION_BF16, 1.5e-2);
}

// ---------------------------------------------------------------- sampler steps

// The device's float32 arithmetic is the CPU's operation for operation (no fma either side), exp taken in
// double and rounded: bit-equal, including the learned-range variance and the no-noise last step.
TEST_P(BackendParity, SamplerStepsAndGuidanceCombine) {
    const int64_t B = 4, C = 4, H = 5, W = 7, P = H * W;
    Pair x = both(rng.uniform(B * C * P, -3, 3), {B, C, H, W}), noise = both(rng.uniform(B * C * P, -3, 3), {B, C, H, W});
    Pair out = both(rng.uniform(B * 2 * C * P, -1, 1), {B, 2 * C, H, W});
    Pair pred = both(std::vector<float>(B * C * P, 0.f), {B, C, H, W}), next = both(std::vector<float>(B * C * P, 0.f), {B, C, H, W});
    const float ddpm[7] = {1.7f, 1.4f, 0.31f, 0.66f, -4.2f, -5.1f, -4.0f};
    for (int learned = 0; learned < 2; ++learned) {
        PARITY_BOTH(dd_ddpm_update(x[S], out[S], noise[S], pred[S], next[S], ddpm, learned));
        EXPECT_TRUE(exact(pred)) << "ddpm pred_xstart";
        EXPECT_TRUE(exact(next)) << "ddpm next, learned_range " << learned;
    }
    PARITY_BOTH(dd_ddpm_update(x[S], out[S], nullptr, nullptr, next[S], ddpm, 1));
    EXPECT_TRUE(exact(next)) << "ddpm last step";
    const float ddim[5] = {1.3f, 0.8f, 0.93f, 0.2f, 0.11f};
    PARITY_BOTH(dd_ddim_update(x[S], out[S], noise[S], pred[S], next[S], ddim));
    EXPECT_TRUE(exact(next)) << "ddim";
    // DPM-Solver++ of every order: coefficients of a plausible step (sigma, alpha, then the update's)
    Pair m1 = both(rng.uniform(B * C * P, -2, 2), {B, C, H, W}), m2 = both(rng.uniform(B * C * P, -2, 2), {B, C, H, W});
    const float dpm[3][10] = {{0.97f, 0.28f, 0.81f, -0.27f},
                              {0.97f, 0.28f, 0.81f, -0.27f, -0.135f, 0.9f},
                              {0.97f, 0.28f, 0.81f, -0.27f, 0.33f, -0.04f, 0.9f, 1.1f, 0.45f, 0.5f}};
    for (int order = 1; order <= 3; ++order) {
        PARITY_BOTH(dd_dpm_update(x[S], out[S], m1[S], m2[S], pred[S], next[S], dpm[order - 1], order));
        EXPECT_TRUE(exact(pred)) << "dpm x0, order " << order;
        EXPECT_TRUE(exact(next)) << "dpm next, order " << order;
    }
    PARITY_BOTH(dd_cfg_combine(out[S], 3, 4.0f));
    EXPECT_TRUE(exact(out)) << "cfg_combine";
    Pair guide = both(rng.uniform(B * 2 * C * P, -1, 1), {B, 2 * C, H, W});
    PARITY_BOTH(dd_weak_guidance(out[S], guide[S], 3, 0.8f));
    EXPECT_TRUE(exact(out)) << "weak_guidance";
}

// ---------------------------------------------------------------- errors

// A kernel limit on the device comes back as a status whose message names the kernel: the device's
// attention takes head dims 1..128 (the CPU computes any).
TEST_P(BackendParity, DeviceKernelLimitIsReportedWithKernelName) {
    const int64_t N = 1, T = 3, H = 1, Dh = 200;
    Pair qkv = both(rng.uniform(N * T * 3 * H * Dh, -1, 1), {N, T, 3, H, Dh});
    Pair out = both(rng.uniform(N * T * H * Dh, -1, 1), {N, T, H, Dh});
    auto part = [&](int s) { return pview(qkv, {N, T, H, Dh}, {T * 3 * H * Dh, 3 * H * Dh, Dh, 1}, s * H * Dh); };
    Pair q = part(0), k = part(1), v = part(2);
    ASSERT_EQ(dd_attention(q[0], k[0], v[0], 0.1f, out[0]), DD_OK) << "cpu: " << dd_last_error();
    dd_clear_error();
    EXPECT_TRUE(FailsWith(dd_attention(q[1], k[1], v[1], 0.1f, out[1]), DD_ERR_UNSUPPORTED, {"attention", "200"}));
}

// Tensors of the CPU and of the device in one op: DD_ERR_DEVICE, nothing written.
TEST_P(BackendParity, MixedDevicesInOneOpAreRefused) {
    const int64_t M = 4, N = 6, K = 8;
    Pair x = both(rng.uniform(M * K, -1, 1), {M, K}), w = both(rng.uniform(N * K, -1, 1), {N, K});
    Pair y = both(rng.uniform(M * N, -1, 1), {M, N});
    const auto before = download(y.d.get());
    EXPECT_EQ(dd_linear(x[0], w[1], nullptr, y[1]), DD_ERR_DEVICE) << dd_last_error();
    EXPECT_EQ(dd_linear(x[1], w[1], nullptr, y[0]), DD_ERR_DEVICE) << dd_last_error();
    EXPECT_EQ(dd_gelu_tanh(x[0], x[1]), DD_ERR_DEVICE) << dd_last_error();
    EXPECT_TRUE(BitEqual(download(y.d.get()), before)) << "device output written by a refused op";
}

INSTANTIATE_TEST_SUITE_P(Devices, BackendParity, testing::ValuesIn(parity_devices()),
                         [](const testing::TestParamInfo<Backend>& i) { return std::string(i.param.name); });

// The plugin loads from beside libdyndit (what every cuda_emu parity test above relies on), and loading
// again is a no-op. (A failing path cannot be tested here: the plugin is loaded once per process.)
TEST(BackendParityEmu, LoadsFromBesideLibdyndit) {
    ASSERT_EQ(dd_cuda_emu_load(nullptr), DD_OK) << dd_last_error();
    EXPECT_EQ(dd_cuda_emu_load(nullptr), DD_OK) << dd_last_error();
}

}  // namespace
