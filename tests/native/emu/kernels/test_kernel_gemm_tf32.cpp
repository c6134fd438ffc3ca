// cuda-kernels/gemm_tf32.cu under emulation against a double-precision Linear on fresh random inputs:
// ragged M / N / K, row strides, epilogues, output-row and input-column blocks, both precisions.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "gemm_tf32.cuh"

using dd::cuda_kernels::GemmEpilogue;
using dd::cuda_kernels::GemmPrecision;
using dd::cuda_kernels::LinearArgs;
using emu_test::DevBuf;
using emu_test::bf16_bits;
using emu_test::bf16_float;

namespace {

enum class Form { kPlain, kOutBlocks, kInBlocks };

struct Case {
    int M = 37, N = 45, K = 67;
    Form form = Form::kPlain;
    std::vector<int64_t> blocks;  // (start, length) pairs for the sliced forms
    GemmPrecision precision = GemmPrecision::kTf32;
    GemmEpilogue epilogue = GemmEpilogue::kStore;
    bool bias = true;
    bool gate = true;              // kGatedResidual: gate given
    bool row_sample = false;       // kGatedResidual: row -> sample through an index array
    int rows_per_sample = 10;
    // Row strides of x and W in multiples of 4 floats (the multistage kernel's 16-B copies), and the kernel
    // expected to run (checked through the emulator's launch records, with its shared-memory conflicts).
    bool aligned = false;
    const char* kernel = nullptr;
    // bf16: W also given as bf16 values (LinearArgs::w16, rounded on the host), row stride w16_rs (0: W's
    // rounded up to 8 values).
    bool w16 = false;
    int64_t w16_rs = 0;
    bool conflict_free = true;  // with kernel: no bank conflicts expected (the 64x64 bf16 path has 2-way ones)
    // bf16 activations (LinearArgs::x16 / y16): x given as bf16 values (row stride rounded to 8 when aligned), y
    // stored as bf16 (its gaps too are bf16, untouched).
    bool x16 = false, y16 = false;
};

int64_t round4(int64_t v) { return (v + 3) / 4 * 4; }
int64_t round8(int64_t v) { return (v + 7) / 8 * 8; }

// cvt.rna.tf32.f32: round to nearest, ties away, dropping the 13 low mantissa bits.
double tf32(float x) {
    uint32_t u;
    std::memcpy(&u, &x, 4);
    if ((u & 0x7F800000u) != 0x7F800000u) u = (u + 0x1000u) & 0xFFFFE000u;
    float r;
    std::memcpy(&r, &u, 4);
    return r;
}

// Round to nearest even at bf16 (what the kernel stores before the bf16 mma).
float bf16r(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }


double gelu(double x) { return 0.5 * x * (1.0 + std::tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); }

void check(const Case& c) {
    emu_test::Rng rng;
    const bool tf = c.precision != GemmPrecision::kFp32;  // operands rounded (tf32 or bf16)
    const bool bf = c.precision == GemmPrecision::kBf16;
    SCOPED_TRACE(rng.trace() + " M " + std::to_string(c.M) + " N " + std::to_string(c.N) + " K " +
                 std::to_string(c.K) + (bf ? " bf16" : tf ? " tf32" : " fp32") + " epilogue " + std::to_string((int)c.epilogue) +
                 " form " + std::to_string((int)c.form) + (c.w16 ? " bf16 weights" : "") + (c.x16 ? " bf16 x" : "") +
                 (c.y16 ? " bf16 y" : ""));
    // Columns of x and y after slicing, and the map from them to W's columns / rows.
    std::vector<int> kmap, nmap;
    if (c.form == Form::kInBlocks) {
        for (size_t b = 0; b < c.blocks.size(); b += 2)
            for (int j = 0; j < c.blocks[b + 1]; ++j) kmap.push_back((int)c.blocks[b] + j);
    } else {
        for (int k = 0; k < c.K; ++k) kmap.push_back(k);
    }
    if (c.form == Form::kOutBlocks) {
        for (size_t b = 0; b < c.blocks.size(); b += 2)
            for (int j = 0; j < c.blocks[b + 1]; ++j) nmap.push_back((int)c.blocks[b] + j);
    } else {
        for (int n = 0; n < c.N; ++n) nmap.push_back(n);
    }
    const int Kx = (int)kmap.size(), Ny = (int)nmap.size(), S = (c.M + c.rows_per_sample - 1) / c.rows_per_sample;
    // Row strides with gaps (x, W, y, gate): the gaps of y must stay untouched.
    const int64_t x_rs = c.aligned ? (c.x16 ? round8(Kx + 3) : round4(Kx + 3)) : Kx + 3, w_rs = c.aligned ? round4(c.K + 5) : c.K + 5;
    const int64_t y_rs = Ny + 2, g_rs = Ny + 7;
    std::vector<float> x(std::max<int64_t>(1, c.M * x_rs)), w(c.N * w_rs), bias(c.N), gate(S * g_rs);
    std::vector<float> y(std::max<int64_t>(1, c.M * y_rs));
    std::vector<int32_t> sample(std::max(1, c.M));
    for (auto& v : x) v = rng.normal();
    for (auto& v : w) v = rng.normal();
    for (auto& v : bias) v = rng.normal();
    for (auto& v : gate) v = rng.uniform(-2.0f, 2.0f);
    for (auto& v : y) v = rng.normal();
    for (auto& v : sample) v = rng.integer(0, S - 1);
    std::vector<uint16_t> x16(x.size()), y16(y.size());
    if (c.x16)  // x holds bf16 values: the reference's bf16r(x) is x itself
        for (size_t i = 0; i < x.size(); ++i) x16[i] = bf16_bits(x[i]), x[i] = bf16r(x[i]);
    if (c.y16)
        for (size_t i = 0; i < y.size(); ++i) y16[i] = bf16_bits(y[i]), y[i] = bf16r(y[i]);
    const std::vector<float> y0 = y;

    // The bf16 copy of W (what the backend's weight cache holds); W itself keeps its fp32 values.
    const int64_t w16_rs = c.w16_rs ? c.w16_rs : (w_rs + 7) / 8 * 8;
    std::vector<uint16_t> w16(std::max<int64_t>(1, c.N * w16_rs), 0);
    for (int n = 0; n < c.N; ++n)
        for (int k = 0; k < c.K; ++k) {
            const __nv_bfloat16 b = __float2bfloat16_rn(w[(size_t)n * w_rs + k]);
            std::memcpy(&w16[(size_t)n * w16_rs + k], &b, 2);
        }
    DevBuf<float> dx(x), dw(w), dbias(bias), dgate(gate), dy(y);
    DevBuf<uint16_t> dw16(w16), dx16(x16), dy16(y16);
    DevBuf<int32_t> dsample(sample);
    LinearArgs a;
    a.x = dx.p; a.x_rs = x_rs; a.w = dw.p; a.w_rs = w_rs; a.bias = c.bias ? dbias.p : nullptr;
    a.y = dy.p; a.y_rs = y_rs; a.M = c.M;
    a.epilogue = c.epilogue; a.precision = c.precision;
    a.gate = c.gate ? dgate.p : nullptr; a.gate_rs = g_rs;
    a.row_sample = c.row_sample ? dsample.p : nullptr; a.rows_per_sample = c.rows_per_sample;
    if (c.w16) {
        a.w16 = dw16.p;
        a.w16_rs = w16_rs;
    }
    if (c.x16) a.x = nullptr, a.x16 = dx16.p;
    if (c.y16) a.y = nullptr, a.y16 = dy16.p;
    const int nb = (int)c.blocks.size() / 2;
    cudaError_t err;
    if (c.kernel) dd::simt::emu::counting_start(false);
    if (c.form == Form::kPlain) err = dd::cuda_kernels::linear(a, c.N, c.K, 0);
    else if (c.form == Form::kOutBlocks) err = dd::cuda_kernels::linear_out_blocks(a, c.blocks.data(), nb, c.N, c.K, 0);
    else err = dd::cuda_kernels::linear_in_blocks(a, c.blocks.data(), nb, c.N, c.K, 0);
    if (c.kernel) {
        const std::vector<dd::simt::emu::LaunchRecord> rec = dd::simt::emu::counting_stop();
        ASSERT_EQ(rec.size(), 1u);
        EXPECT_EQ(rec[0].kernel.rfind(c.kernel, 0), 0u) << rec[0].kernel;
        if (c.conflict_free) {
            EXPECT_EQ(rec[0].whole.smem_conflict_wavefronts, 0) << "bank conflicts in " << rec[0].kernel;
        }
    }
    ASSERT_EQ(err, cudaSuccess);
    std::vector<float> got = dy.get();
    if (c.y16) {
        const std::vector<uint16_t> got16 = dy16.get();
        for (size_t i = 0; i < got.size(); ++i) got[i] = bf16_float(got16[i]);
    }

    int bad = 0, gap_bad = 0;
    double worst = 0;
    for (int m = 0; m < c.M; ++m)
        for (int j = 0; j < y_rs; ++j) {
            const float g = got[(size_t)m * y_rs + j];
            if (j >= Ny) {
                gap_bad += g != y0[(size_t)m * y_rs + j];
                continue;
            }
            const int n = nmap[j];
            // TF32: the reference takes the tf32-rounded operands, so what remains is fp32 accumulation
            // (<= K * 2^-24 of sum |terms| ~ 8e-6 at K = 128; tensor cores may truncate, hence 2e-5).
            // Rounding alone would be ~1e-3 per product: dropping the conversion fails this. fp32: 1e-5.
            double acc = c.bias ? bias[n] : 0.0, mag = std::fabs(acc);
            for (int k = 0; k < Kx; ++k) {
                const float xv = x[(size_t)m * x_rs + k], wv = w[(size_t)n * w_rs + kmap[k]];
                const double p = bf ? (double)bf16r(xv) * bf16r(wv) : tf ? tf32(xv) * tf32(wv) : (double)xv * wv;
                acc += p;
                mag += std::fabs(p);
            }
            double tol = (tf ? 2e-5 : 1e-5) * mag, ref = acc;
            if (c.epilogue == GemmEpilogue::kGeluTanh) {
                ref = gelu(acc);
                tol = 1.2 * tol + 1e-6 * (1 + std::fabs(ref));  // |gelu'| <= 1.13; tanhf's own error
            } else if (c.epilogue == GemmEpilogue::kGatedResidual) {
                const int s = c.row_sample ? sample[m] : m / c.rows_per_sample;
                const double gv = c.gate ? gate[(size_t)s * g_rs + j] : 1.0;
                ref = y0[(size_t)m * y_rs + j] + gv * acc;
                tol = tol * std::fabs(gv) + 1e-6 * (1 + std::fabs(ref));  // plus fp32 rounding of the sum
            }
            // bf16 y: the fp32 value (within tol of ref) rounded once to 8 significant bits, by at most 2^-8 of it
            if (c.y16) tol += std::ldexp(1.0, -8) * (std::fabs(ref) + tol);
            const double e = std::fabs(g - ref);
            worst = std::max(worst, e / tol);
            bad += !(e <= tol);
        }
    EXPECT_EQ(bad, 0) << "Linear mismatch in " << bad << " of " << c.M * Ny << " outputs; worst error / tolerance "
                      << worst;
    EXPECT_EQ(gap_bad, 0) << "writes outside y's columns";
}

}  // namespace

TEST(EmuGemmTf32, RaggedShapesEveryPrecision) {
    for (GemmPrecision pr : {GemmPrecision::kTf32, GemmPrecision::kFp32, GemmPrecision::kBf16}) {
        Case c;
        c.precision = pr;
        check(c);
    }
}
TEST(EmuGemmTf32, FullTilesNoBias) {
    Case c;
    c.M = c.N = c.K = 128;
    c.bias = false;
    check(c);
}
// bf16 alone (the mutation test's probe of the bf16 mma path: no tf32 case in this test).
TEST(EmuGemmTf32, FullTilesBf16) {
    Case c;
    c.M = c.N = c.K = 128;
    c.precision = GemmPrecision::kBf16;
    check(c);
}
TEST(EmuGemmTf32, TinyAndSingleColumn) {
    Case c;
    c.M = 1; c.N = 1; c.K = 1;
    check(c);
    c.M = 3; c.N = 70; c.K = 0;  // empty reduction: bias only
    check(c);
}
TEST(EmuGemmTf32, GeluEpilogue) {
    for (GemmPrecision pr : {GemmPrecision::kTf32, GemmPrecision::kFp32, GemmPrecision::kBf16}) {
        Case c;
        c.M = 50; c.N = 70; c.K = 40;
        c.epilogue = GemmEpilogue::kGeluTanh;
        c.precision = pr;
        check(c);
    }
}
TEST(EmuGemmTf32, GatedResidualEpilogue) {
    Case c;
    c.M = 45; c.N = 33; c.K = 72;
    c.epilogue = GemmEpilogue::kGatedResidual;
    check(c);  // sample = m / 10
    c.row_sample = true;
    check(c);
    c.gate = false;  // plain residual add
    c.precision = GemmPrecision::kFp32;
    check(c);
}
TEST(EmuGemmTf32, OutputRowBlocks) {
    Case c;
    c.M = 70; c.N = 100; c.K = 48;
    c.form = Form::kOutBlocks;
    c.blocks = {10, 20, 64, 36, 0, 0, 3, 5, 90, 10};  // overlapping and empty blocks allowed
    check(c);
    c.epilogue = GemmEpilogue::kGatedResidual;
    c.precision = GemmPrecision::kFp32;
    check(c);
}
TEST(EmuGemmTf32, InputColumnBlocks) {
    Case c;
    c.M = 33; c.N = 40; c.K = 120;
    c.form = Form::kInBlocks;
    c.blocks = {0, 16, 50, 33, 0, 0, 100, 20};
    check(c);
    c.precision = GemmPrecision::kBf16;  // segments of odd length / start across the k16 steps
    check(c);
    c.precision = GemmPrecision::kFp32;
    c.epilogue = GemmEpilogue::kGeluTanh;
    check(c);
    c.blocks.clear();  // no blocks: y = bias
    check(c);
}
TEST(EmuGemmTf32, RejectsBadArguments) {
    DevBuf<float> buf(64);
    LinearArgs a;
    a.x = a.w = buf.p; a.y = buf.p; a.x_rs = a.w_rs = a.y_rs = 8; a.M = 1;
    const int64_t past_end[2] = {4, 5}, negative[2] = {-1, 2};
    EXPECT_EQ(dd::cuda_kernels::linear_out_blocks(a, past_end, 1, 8, 8, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::linear_in_blocks(a, negative, 1, 8, 8, 0), cudaErrorInvalidValue);
    std::vector<int64_t> many(2 * (dd::cuda_kernels::kLinearMaxBlocks + 1), 0);
    EXPECT_EQ(dd::cuda_kernels::linear_in_blocks(a, many.data(), dd::cuda_kernels::kLinearMaxBlocks + 1, 8, 8, 0),
              cudaErrorInvalidValue);
    a.epilogue = GemmEpilogue::kGatedResidual;
    a.gate = buf.p;
    a.rows_per_sample = 0;
    EXPECT_EQ(dd::cuda_kernels::linear(a, 8, 8, 0), cudaErrorInvalidValue);
    a.epilogue = GemmEpilogue::kStore;
    a.x = nullptr;
    EXPECT_EQ(dd::cuda_kernels::linear(a, 8, 8, 0), cudaErrorInvalidValue);
}

// The multistage cp.async kernel (aligned strides; 128x256 tiles here, 128x128 in the sliced forms): several
// k-tiles around the 3-stage ring, ragged M, N and K tails, both tensor-core precisions, every epilogue, sliced
// forms; no bank conflicts.
TEST(EmuGemmTf32, MultistageRingRaggedEdges) {
    for (GemmPrecision pr : {GemmPrecision::kTf32, GemmPrecision::kBf16}) {
        Case c;
        c.M = 250; c.N = 201; c.K = 200;  // 2 x 2 CTAs, 7 k-tiles (the last 8 wide)
        c.aligned = true;
        c.kernel = "linear_ms_kernel";
        c.precision = pr;
        check(c);
    }
}
TEST(EmuGemmTf32, MultistageEpilogues) {
    Case c;
    c.M = 120; c.N = 251; c.K = 64;  // odd y stride: 8-byte and 4-byte stores alternate by row
    c.aligned = true;
    c.kernel = "linear_ms_kernel";
    c.epilogue = GemmEpilogue::kGeluTanh;
    check(c);
    c.epilogue = GemmEpilogue::kGatedResidual;
    c.row_sample = true;
    c.precision = GemmPrecision::kBf16;
    check(c);
}
TEST(EmuGemmTf32, MultistageSlicedForms) {
    Case c;
    c.M = 120; c.N = 300; c.K = 96;
    c.aligned = true;
    c.kernel = "linear_ms_kernel";
    c.form = Form::kOutBlocks;  // output blocks need no alignment (padding 384 against 320 columns)
    c.blocks = {0, 120, 130, 100, 0, 0, 250, 50};
    check(c);
    c.form = Form::kInBlocks;  // input blocks in multiples of 4: k-tiles flattened across the segments
    c.blocks = {0, 16, 52, 32, 0, 0, 84, 12};
    check(c);
    c.blocks = {0, 16, 50, 33};  // unaligned input block: the 64x64 kernel
    c.kernel = "linear_kernel";
    check(c);
}
TEST(EmuGemmTf32, SmallRowsOrColumnsTakeThe64Kernel) {
    Case c;
    c.aligned = true;
    c.kernel = "linear_kernel";
    c.M = 33; c.N = 256; c.K = 64;  // more rows than the few-row kernel takes; 128-row tiles would be 4x the work
    check(c);
    c.M = 256; c.N = 32;  // the final linear
    check(c);
}

// The few-row kernel (M <= 32, the adaLN GEMVs): several k-tiles around the 8-stage ring (K = 1000: 32 tiles, the
// last 8 wide), ragged N across CTAs of 64 columns, M of 1 .. 32, both tensor-core precisions, every epilogue,
// the sliced forms; no bank conflicts.
TEST(EmuGemmTf32, FewRowsRing) {
    for (GemmPrecision pr : {GemmPrecision::kTf32, GemmPrecision::kBf16}) {
        Case c;
        c.M = 32; c.N = 201; c.K = 1000;
        c.aligned = true;
        c.kernel = "linear_skinny_kernel";
        c.precision = pr;
        check(c);
        c.M = 1; c.N = 70; c.K = 36;
        check(c);
    }
}
TEST(EmuGemmTf32, FewRowsEpiloguesAndSlicedForms) {
    Case c;
    c.M = 20; c.N = 130; c.K = 96;
    c.aligned = true;
    c.kernel = "linear_skinny_kernel";
    c.epilogue = GemmEpilogue::kGeluTanh;
    check(c);
    c.epilogue = GemmEpilogue::kGatedResidual;
    c.row_sample = true;
    c.precision = GemmPrecision::kBf16;
    check(c);
    c.epilogue = GemmEpilogue::kStore;
    c.form = Form::kOutBlocks;
    c.blocks = {0, 60, 70, 50, 0, 0, 125, 5};
    check(c);
    c.form = Form::kInBlocks;
    c.blocks = {0, 16, 52, 32, 0, 0, 88, 8};
    check(c);
    c.blocks = {0, 16, 50, 33};  // unaligned input block: the 64x64 kernel (2-way conflicts in bf16)
    c.kernel = "linear_kernel";
    c.conflict_free = false;
    check(c);
}

// The bf16-weight kernel (W as bf16 in memory, x rounded on its way into shared memory, ldmatrix fragments,
// 4-stage ring): several k-tiles around the ring, ragged M / N / K (the last chunk half full), both tile widths,
// every epilogue, the sliced forms, and the fallbacks when w16 cannot take 16-B copies; no bank conflicts.
TEST(EmuGemmTf32, Bf16WeightsRing) {
    Case c;
    c.M = 250; c.N = 201; c.K = 236;  // 2 x 1 CTAs of 128x256, 8 k-tiles (the last 12 wide: a half chunk)
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.kernel = "linear_w16_kernel";
    check(c);
}
TEST(EmuGemmTf32, Bf16WeightsEpiloguesAndTileWidths) {
    Case c;
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.kernel = "linear_w16_kernel";
    c.M = 120; c.N = 300; c.K = 64;  // 128x128 tiles (256 would pad too much)
    c.epilogue = GemmEpilogue::kGeluTanh;
    check(c);
    c.N = 251;
    c.epilogue = GemmEpilogue::kGatedResidual;
    c.row_sample = true;
    check(c);
}
TEST(EmuGemmTf32, Bf16WeightsSlicedForms) {
    Case c;
    c.M = 120; c.N = 300; c.K = 96;
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.kernel = "linear_w16_kernel";
    c.form = Form::kOutBlocks;
    c.blocks = {0, 120, 130, 100, 0, 0, 250, 50};
    check(c);
    c.form = Form::kInBlocks;  // W starts in multiples of 8, lengths of 4: k-tiles flattened across segments
    c.blocks = {0, 16, 48, 36, 0, 0, 88, 4};
    check(c);
    c.blocks = {0, 16, 52, 32};  // a W start of 4 cannot take 16-B bf16 copies: the fp32-operand kernel
    c.kernel = "linear_ms_kernel";
    check(c);
}
TEST(EmuGemmTf32, Bf16WeightsFallBackWhenMisaligned) {
    Case c;
    c.M = 250; c.N = 200; c.K = 64;
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.w16_rs = 68;  // not a multiple of 8 values: the fp32-operand multistage kernel from w
    c.kernel = "linear_ms_kernel";
    check(c);
    c.aligned = false;  // x unaligned too: the 64x64 kernel
    c.w16_rs = 0;
    c.kernel = "linear_kernel";
    c.conflict_free = false;
    check(c);
}

// bf16 activations: x copied by cp.async straight into the bf16 tiles with W's (no rounding pass), y rounded once
// in the epilogue; the 64x64 kernel for what the 16-B copies cannot take.
TEST(EmuGemmTf32, Bf16ActivationsRing) {
    Case c;
    c.M = 250; c.N = 201; c.K = 236;  // 2 x 1 CTAs of 128x256, 8 k-tiles (the last 12 wide: a half chunk of x too)
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.x16 = true;
    c.kernel = "linear_w16_kernel";
    check(c);
    c.y16 = true;  // and bf16 out
    check(c);
    c.x16 = false;  // fp32 x into a bf16 y
    check(c);
}
TEST(EmuGemmTf32, Bf16ActivationsEpiloguesAndSlicedForms) {
    Case c;
    c.precision = GemmPrecision::kBf16;
    c.aligned = true;
    c.w16 = true;
    c.x16 = true;
    c.kernel = "linear_w16_kernel";
    c.M = 120; c.N = 300; c.K = 64;
    c.epilogue = GemmEpilogue::kGeluTanh;  // fc1: GELU into a bf16 hidden
    c.y16 = true;
    check(c);
    c.y16 = false;  // fc2: the gated residual from a bf16 hidden into fp32 h
    c.N = 251;
    c.epilogue = GemmEpilogue::kGatedResidual;
    check(c);
    c.epilogue = GemmEpilogue::kStore;
    c.N = 300;
    c.form = Form::kOutBlocks;
    c.blocks = {0, 120, 130, 100, 0, 0, 250, 50};
    c.y16 = true;
    check(c);
}
TEST(EmuGemmTf32, Bf16ActivationsOnThe64Kernel) {
    Case c;
    c.precision = GemmPrecision::kBf16;
    c.x16 = true;
    c.y16 = true;
    c.kernel = "linear_kernel";
    c.conflict_free = false;
    c.M = 37; c.N = 45; c.K = 67;  // unaligned strides, no bf16 W copy
    check(c);
    c.M = 20; c.aligned = true;  // few rows: not the few-row kernel (fp32 x only)
    c.epilogue = GemmEpilogue::kGeluTanh;
    check(c);
    c.M = 250; c.N = 200; c.K = 64;  // aligned but no W copy: not the fp32-operand multistage kernel either
    c.epilogue = GemmEpilogue::kStore;
    check(c);
}
TEST(EmuGemmTf32, Bf16ActivationsRefusedOutsideBf16AndForTheResidual) {
    std::vector<float> w(64), y(64);
    std::vector<uint16_t> x16(64), y16(64);
    DevBuf<float> dw(w), dy(y);
    DevBuf<uint16_t> dx16(x16), dy16(y16);
    LinearArgs a;
    a.x = nullptr; a.x16 = dx16.p; a.x_rs = 8; a.w = dw.p; a.w_rs = 8; a.bias = nullptr;
    a.y = dy.p; a.y_rs = 8; a.M = 8;
    a.precision = GemmPrecision::kTf32;
    EXPECT_EQ(dd::cuda_kernels::linear(a, 8, 8, 0), cudaErrorInvalidValue);
    a.precision = GemmPrecision::kBf16;
    EXPECT_EQ(dd::cuda_kernels::linear(a, 8, 8, 0), cudaSuccess);
    a.y = nullptr; a.y16 = dy16.p; a.epilogue = GemmEpilogue::kGatedResidual;
    EXPECT_EQ(dd::cuda_kernels::linear(a, 8, 8, 0), cudaErrorInvalidValue);
}
