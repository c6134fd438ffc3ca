// cuda-kernels/attention_varlen.cu under emulation against a double-precision softmax attention on
// fresh random inputs: packed qkv views, ragged and empty sequences, active-head lists, dense layout,
// head dims 8..128.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "attention_flash2.cuh"
#include "attention_flash2_bf16.cuh"
#include "attention_varlen.cuh"

#include <cuda_bf16.h>

using dd::cuda_kernels::AttentionVarlenArgs;
using emu_test::DevBuf;
using emu_test::bf16_bits;
using emu_test::bf16_float;

namespace {

struct Case {
    std::vector<int> lens;    // sequence lengths (varlen) or B copies of T (dense)
    bool dense = false;
    int H = 1, Dh = 64;
    std::vector<int> heads;   // empty: all heads
    float qk_sigma = 1.0f;    // larger: peakier softmax, exercises the running-max rescaling
    bool tc = false;          // the TF32 tensor-core kernels instead of the fp32 one
    enum class Entry { kDispatch, kTc, kFlash2 } entry = Entry::kDispatch;  // tc: which tensor-core kernel
    int out_pad = 4;          // floats of row-end gap in out (odd: o rows not 8-B aligned)
    bool table = false;       // varlen: the query tiles from a host-built table (build_attention_tiles)
    // bf16 q / k / v / o (attention_flash2_bf16; head strides rounded up to 8 values for its 16-B copies): inputs
    // rounded to bf16 on the host, the reference on those values.
    bool bf16 = false;
};

float bf16r(float v) { return __bfloat162float(__float2bfloat16_rn(v)); }

void check(const Case& c) {
    emu_test::Rng rng;
    const int B = (int)c.lens.size(), H = c.H, Dh = c.Dh;
    int R = 0;
    std::vector<int> cu{0};
    for (int n : c.lens) cu.push_back(R += n);
    const int T = c.dense ? c.lens[0] : 0;
    SCOPED_TRACE(rng.trace() + " B " + std::to_string(B) + " R " + std::to_string(R) + " H " + std::to_string(H) +
                 " Dh " + std::to_string(Dh) + (c.dense ? " dense" : " varlen") + (c.tc ? " tf32" : " fp32") +
                 (c.entry == Case::Entry::kTc ? " attention_tc" : c.entry == Case::Entry::kFlash2 ? " attention_flash2" : "") +
                 (c.bf16 ? " bf16" : ""));
    // q, k, v: views of one packed buffer [R, 3, H, Dh] (dense: each sequence padded by 3 rows, so the
    // sequence stride is not T * row stride); out [R, H, Dh + 4] with a row-end gap that must stay untouched.
    const int64_t sh = c.bf16 ? (Dh + 7) / 8 * 8 : Dh, st = 3LL * H * sh, sn = (int64_t)(T + 3) * st;
    const int64_t rows_alloc = c.dense ? (int64_t)B * (T + 3) : R;
    std::vector<float> qkv(std::max<int64_t>(1, rows_alloc * st));
    for (auto& x : qkv) x = rng.normal() * c.qk_sigma;
    for (int64_t r = 0; r < rows_alloc; ++r)  // v in N(0,1) whatever qk_sigma is
        for (int i = 0; i < H * sh; ++i) qkv[r * st + 2 * H * sh + i] = rng.normal();
    if (c.bf16)
        for (auto& x : qkv) x = bf16r(x);
    const int pad = c.out_pad;
    const int64_t ost = (int64_t)H * (Dh + pad), osh = Dh + pad, osn = (int64_t)T * ost;
    const float sentinel = 12345.0f;
    std::vector<float> out(std::max<int64_t>(1, (int64_t)R * ost), sentinel);
    const float scale = 1.0f / std::sqrt((float)Dh);

    DevBuf<float> dqkv(qkv), dout(out);
    std::vector<uint16_t> qkv16(qkv.size()), out16(out.size(), bf16_bits(sentinel));
    for (size_t i = 0; i < qkv.size(); ++i) qkv16[i] = bf16_bits(qkv[i]);
    DevBuf<uint16_t> dqkv16(qkv16), dout16(out16);
    DevBuf<int32_t> dcu(std::vector<int32_t>(cu.begin(), cu.end()));
    DevBuf<int32_t> dheads(std::vector<int32_t>(c.heads.empty() ? std::vector<int32_t>{0} : c.heads));
    AttentionVarlenArgs a{};
    a.q = dqkv.p; a.k = dqkv.p + (int64_t)H * sh; a.v = dqkv.p + 2LL * H * sh;
    a.q_st = a.k_st = a.v_st = st; a.q_sh = a.k_sh = a.v_sh = sh; a.q_sn = a.k_sn = a.v_sn = sn;
    a.o = dout.p; a.o_st = ost; a.o_sh = osh; a.o_sn = osn;
    a.cu_seqlens = c.dense ? nullptr : dcu.p;
    a.B = B; a.R = R; a.T = T; a.H = H; a.Dh = Dh; a.scale = scale;
    a.heads = c.heads.empty() ? nullptr : dheads.p;
    a.n_heads = (int)c.heads.size();
    a.tensor_cores = c.tc;
    if (c.bf16) {
        a.q = a.k = a.v = nullptr;
        a.o = nullptr;
        a.q16 = dqkv16.p; a.k16 = dqkv16.p + (int64_t)H * sh; a.v16 = dqkv16.p + 2LL * H * sh;
        a.o16 = dout16.p;
    }
    std::vector<dd::cuda_kernels::AttentionTile> tiles;
    if (c.table && !c.dense) {
        a.tile_rows = c.entry == Case::Entry::kTc       ? dd::cuda_kernels::kTcQueryTile
                      : c.entry == Case::Entry::kFlash2 ? dd::cuda_kernels::kFlash2QueryTile
                                                        : dd::cuda_kernels::attention_query_tile(a);
        ASSERT_TRUE(dd::cuda_kernels::build_attention_tiles(cu.data(), B, a.tile_rows, tiles));
    }
    DevBuf<dd::cuda_kernels::AttentionTile> dtiles(tiles.empty() ? std::vector<dd::cuda_kernels::AttentionTile>(1) : tiles);
    if (c.table && !c.dense) {
        a.tiles = dtiles.p;
        a.n_tiles = (int)tiles.size();
    }
    const cudaError_t launched = c.entry == Case::Entry::kTc       ? dd::cuda_kernels::attention_tc(a, 0)
                                 : c.entry == Case::Entry::kFlash2 ? (c.bf16 ? dd::cuda_kernels::attention_flash2_bf16(a, 0)
                                                                             : dd::cuda_kernels::attention_flash2(a, 0))
                                                                   : dd::cuda_kernels::attention_varlen(a, 0);
    ASSERT_EQ(launched, cudaSuccess);
    std::vector<float> got = dout.get();
    if (c.bf16) {
        const std::vector<uint16_t> got16 = dout16.get();
        for (size_t i = 0; i < got.size(); ++i) got[i] = got16[i] == bf16_bits(sentinel) ? sentinel : bf16_float(got16[i]);
    }

    std::vector<bool> active(H, c.heads.empty());
    for (int h : c.heads) active[h] = true;
    int bad = 0, untouched_bad = 0;
    double worst = 0;
    for (int b = 0; b < B; ++b) {
        const int len = c.lens[b];
        // element (token t of sequence b, head h, d) of q (w = 0), k (1), v (2)
        auto at = [&](int w, int t, int h, int d) -> double {
            const int64_t row = c.dense ? (int64_t)b * (T + 3) + t : (int64_t)cu[b] + t;
            return qkv[row * st + (int64_t)w * H * sh + (int64_t)h * sh + d];
        };
        for (int h = 0; h < H; ++h)
            for (int i = 0; i < len; ++i) {
                const int64_t orow = (int64_t)(cu[b] + i) * ost + (int64_t)h * osh;
                if (!active[h]) {
                    for (int d = 0; d < Dh + pad; ++d) untouched_bad += got[orow + d] != sentinel;
                    continue;
                }
                std::vector<double> s(len);
                double mx = -INFINITY, smag = 0, vmax = 0;
                for (int j = 0; j < len; ++j) {
                    double dot = 0, mag = 0;
                    for (int d = 0; d < Dh; ++d) {
                        dot += at(0, i, h, d) * at(1, j, h, d);
                        mag += std::fabs(at(0, i, h, d) * at(1, j, h, d));
                    }
                    s[j] = dot * scale;
                    mx = std::max(mx, s[j]);
                    smag = std::max(smag, mag * scale);
                }
                double sum = 0;
                for (int j = 0; j < len; ++j) sum += (s[j] = std::exp(s[j] - mx));
                for (int j = 0; j < len; ++j)
                    for (int d = 0; d < Dh; ++d) vmax = std::max(vmax, std::fabs(at(2, j, h, d)));
                // fp32: a score carries <= Dh * 2^-24 * sum|q k| error, which exp turns into that relative
                // error of its weight (output error <= 2x it times max|v|); the fp32 sums over <= len keys
                // add len * 2^-24 relative. Factor 2 of margin; a wrong key / mask gives O(0.1).
                double tol = (2.4e-7 * (Dh * smag + len) + 2e-6) * std::max(1.0, vmax);
                // TF32 (10-bit mantissa, u = 2^-11): q and k rounding moves a score by <= 2u * smag, which exp
                // turns into that relative error of its weight (<= 2x on the output); P and v rounding add u
                // each. Factor 2 of margin; a wrong fragment or mask gives O(0.1 .. 1).
                if (c.tc && !c.bf16) tol = (4 * 4.9e-4 * smag * 2 + 4 * 4.9e-4) * std::max(1.0, vmax);
                // bf16: q, k, v are bf16 values (products exact, fp32 sums: the fp32 bound); the probabilities
                // rounded to bf16 (8 significant bits, u = 2^-8) move the output by <= u max|v|, and its own
                // rounding by <= u |out| (added below). A wrong fragment or mask gives O(0.1 .. 1).
                if (c.bf16) tol += 1.01 * std::ldexp(1.0, -8) * vmax;
                for (int d = 0; d < Dh + pad; ++d) {
                    const float g = got[orow + d];
                    if (d >= Dh) {
                        untouched_bad += g != sentinel;
                        continue;
                    }
                    double ref = 0;
                    for (int j = 0; j < len; ++j) ref += s[j] * at(2, j, h, d);
                    ref /= sum;
                    const double err = std::fabs(g - ref);
                    const double t = c.bf16 ? tol + std::ldexp(1.0, -8) * (std::fabs(ref) + tol) : tol;
                    worst = std::max(worst, err / t);
                    bad += !(err <= t);
                }
            }
    }
    EXPECT_EQ(bad, 0) << "attention mismatch in " << bad << " outputs; worst error / tolerance " << worst;
    EXPECT_EQ(untouched_bad, 0) << "outputs of inactive heads or row gaps were written";
}

}  // namespace

TEST(EmuAttentionVarlen, RaggedAndEmptySequencesPackedQkv) {
    Case c;
    c.lens = {37, 5, 0, 16};
    c.H = 7;
    c.Dh = 72;
    check(c);
}
TEST(EmuAttentionVarlen, ActiveHeadSubset) {
    Case c;
    c.lens = {0, 19, 33};
    c.H = 6;
    c.Dh = 64;
    c.heads = {5, 0, 3};
    check(c);
}
TEST(EmuAttentionVarlen, DenseLayoutWithSequenceStride) {
    Case c;
    c.lens = {37, 37};
    c.dense = true;
    c.H = 3;
    c.Dh = 96;
    check(c);
}
TEST(EmuAttentionVarlen, LongPeakySequenceRescales) {  // many key tiles, large score range
    Case c;
    c.lens = {128, 3};
    c.H = 2;
    c.Dh = 128;
    c.qk_sigma = 2.5f;
    check(c);
}
TEST(EmuAttentionVarlen, HeadDimsAcrossBuckets) {
    for (int dh : {8, 13, 32, 40, 100}) {
        Case c;
        c.lens = {33, 1};
        c.H = 2;
        c.Dh = dh;
        check(c);
    }
}
// The same shapes on the TF32 tensor-core kernel: fragments, masks, the P round trip, every head-dim bucket
// (128 needs the dynamic shared memory opt-in).
TEST(EmuAttentionTc, RaggedDenseHeadSubsetsAndBuckets) {
    std::vector<Case> cases(7);
    cases[0].lens = {37, 5, 0, 16}; cases[0].H = 3; cases[0].Dh = 72;
    cases[1].lens = {0, 19, 70}; cases[1].H = 6; cases[1].Dh = 64; cases[1].heads = {5, 0, 3};
    cases[2].lens = {37, 37}; cases[2].dense = true; cases[2].H = 2; cases[2].Dh = 96;
    cases[3].lens = {130, 3}; cases[3].H = 1; cases[3].Dh = 128; cases[3].qk_sigma = 2.5f;
    cases[4].lens = {33, 1}; cases[4].H = 2; cases[4].Dh = 16;
    cases[5].lens = {1}; cases[5].H = 1; cases[5].Dh = 8;
    cases[6].lens = {45, 45}; cases[6].dense = true; cases[6].H = 2; cases[6].Dh = 66;  // 72 bucket, padded
    for (Case& c : cases) {
        c.tc = true;
        c.entry = Case::Entry::kTc;
        check(c);
    }
}
// The FlashAttention-2-style kernel (attention_flash2.cu): P in registers in the permuted key order, K by
// ldmatrix, double-buffered cp.async K / V tiles with zero-filled tails (rows past a sequence, dims past Dh:
// Dh = 68 in the 72 bucket), idle warps past short sequences, several key tiles (130, 200), every head-dim
// bucket (96 and 128 need the dynamic shared memory opt-in).
TEST(EmuAttentionFlash2, RaggedDenseHeadSubsetsAndBuckets) {
    std::vector<Case> cases(8);
    cases[0].lens = {37, 5, 0, 16}; cases[0].H = 3; cases[0].Dh = 72;
    cases[1].lens = {0, 19, 70}; cases[1].H = 6; cases[1].Dh = 64; cases[1].heads = {5, 0, 3};
    cases[2].lens = {37, 37}; cases[2].dense = true; cases[2].H = 2; cases[2].Dh = 96;
    cases[3].lens = {130, 3}; cases[3].H = 1; cases[3].Dh = 128; cases[3].qk_sigma = 2.5f;
    cases[4].lens = {33, 1}; cases[4].H = 4; cases[4].Dh = 16;
    cases[5].lens = {1}; cases[5].H = 4; cases[5].Dh = 8;
    cases[6].lens = {200, 45}; cases[6].H = 2; cases[6].Dh = 68;  // 72 bucket, one dim chunk zero-filled
    cases[7].lens = {200}; cases[7].dense = true; cases[7].H = 2; cases[7].Dh = 72; cases[7].qk_sigma = 2.0f;
    for (Case& c : cases) {
        c.tc = true;
        c.entry = Case::Entry::kFlash2;
        check(c);
    }
}
// Operands the 16-B copies cannot take: attention_flash2 refuses them, attention_varlen falls back to
// attention_tc with the same results.
TEST(EmuAttentionFlash2, UnalignedOperandsFallBack) {
    Case odd_head;  // head stride 13 floats: q / k / v rows not 16-B aligned
    odd_head.lens = {40, 7}; odd_head.H = 2; odd_head.Dh = 13; odd_head.tc = true;
    check(odd_head);
    Case odd_out;  // out rows of 72 + 1 floats: not 8-B aligned for the float2 stores
    odd_out.lens = {40}; odd_out.H = 1; odd_out.Dh = 72; odd_out.tc = true; odd_out.out_pad = 1;
    check(odd_out);

    DevBuf<float> buf(4 * 13 * 3 + 8);
    AttentionVarlenArgs a{};
    a.q = buf.p; a.k = buf.p + 13; a.v = buf.p + 26; a.o = buf.p + 39;
    a.q_st = a.k_st = a.v_st = 39; a.o_st = 13;
    a.B = 1; a.T = 1; a.H = 1; a.Dh = 13; a.scale = 1.0f; a.tensor_cores = true;
    EXPECT_FALSE(dd::cuda_kernels::attention_flash2_takes(a));
    EXPECT_EQ(dd::cuda_kernels::attention_flash2(a, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaSuccess);
    a.k = buf.p + 16; a.k_st = 40; a.q_st = 40; a.v = buf.p + 32; a.v_st = 40; a.o = buf.p + 48; a.o_st = 14;
    EXPECT_TRUE(dd::cuda_kernels::attention_flash2_takes(a));
}

// bf16 q / k / v / o (attention_flash2_bf16.cu): K by ldmatrix, V by ldmatrix.trans, P from the S C fragments in
// registers, zero-filled tails (rows past a sequence; dims past Dh: 20 in rows of 24, 68 in the 72 bucket whose
// Q K^T runs over 80), idle warps, several key tiles, every bucket (96 and 128 opt in to > 48 KiB).
TEST(EmuAttentionFlash2Bf16, RaggedDenseHeadSubsetsAndBuckets) {
    std::vector<Case> cases(8);
    cases[0].lens = {37, 5, 0, 16}; cases[0].H = 3; cases[0].Dh = 72;
    cases[1].lens = {0, 19, 70}; cases[1].H = 6; cases[1].Dh = 64; cases[1].heads = {5, 0, 3};
    cases[2].lens = {37, 37}; cases[2].dense = true; cases[2].H = 2; cases[2].Dh = 96;
    cases[3].lens = {130, 3}; cases[3].H = 1; cases[3].Dh = 128; cases[3].qk_sigma = 2.5f;
    cases[4].lens = {33, 1}; cases[4].H = 4; cases[4].Dh = 20;
    cases[5].lens = {1}; cases[5].H = 4; cases[5].Dh = 8;
    cases[6].lens = {200, 45}; cases[6].H = 2; cases[6].Dh = 68;
    cases[7].lens = {200}; cases[7].dense = true; cases[7].H = 2; cases[7].Dh = 72; cases[7].qk_sigma = 2.0f;
    for (Case& c : cases) {
        c.tc = true;
        c.bf16 = true;
        c.entry = Case::Entry::kFlash2;
        check(c);
    }
}
// bf16 operands through attention_varlen with the host-built tile table (the backend's packed path), and operands
// the 16-B copies cannot take refused (no fp32 fallback exists for bf16).
TEST(EmuAttentionFlash2Bf16, TileTableAndRefusals) {
    Case c;
    c.lens = {0, 150, 7, 0, 64, 129};
    c.H = 2;
    c.Dh = 72;
    c.tc = true;
    c.bf16 = true;
    c.table = true;
    check(c);

    DevBuf<uint16_t> buf(std::vector<uint16_t>(4 * 24 * 3 + 8));
    AttentionVarlenArgs a{};
    a.q16 = buf.p; a.k16 = buf.p + 24; a.v16 = buf.p + 48; a.o16 = buf.p + 72;
    a.q_st = a.k_st = a.v_st = 72; a.o_st = 24;
    a.B = 1; a.T = 1; a.H = 1; a.Dh = 20; a.scale = 1.0f; a.tensor_cores = true;
    EXPECT_TRUE(dd::cuda_kernels::attention_flash2_bf16_takes(a));
    EXPECT_EQ(dd::cuda_kernels::attention_query_tile(a), dd::cuda_kernels::kFlash2QueryTile);
    a.k16 = buf.p + 20;  // k rows not 16-B aligned
    EXPECT_FALSE(dd::cuda_kernels::attention_flash2_bf16_takes(a));
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    a.k16 = buf.p + 24;
    a.o_st = 23;  // odd out stride: no bf16x2 stores
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    a.o_st = 24;
    a.o = reinterpret_cast<float*>(buf.p);  // fp32 and bf16 operands mixed
    EXPECT_EQ(dd::cuda_kernels::attention_flash2_bf16(a, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::attention_flash2(a, 0), cudaErrorInvalidValue);
}

// Query tiles from the host-built table (what the backend passes): every kernel, ragged and empty sequences,
// several tiles per sequence.
TEST(EmuAttentionVarlen, HostBuiltTileTable) {
    const Case::Entry entries[] = {Case::Entry::kDispatch, Case::Entry::kTc, Case::Entry::kFlash2};
    for (bool tc : {false, true})
        for (Case::Entry e : entries) {
            if (!tc && e != Case::Entry::kDispatch) continue;
            Case c;
            c.lens = {0, 150, 7, 0, 64, 129};
            c.H = 2;
            c.Dh = 72;
            c.tc = tc;
            c.entry = e;
            c.table = true;
            check(c);
        }
}
TEST(EmuAttentionVarlen, TileTableOfAnotherTileSizeIsRefused) {
    DevBuf<float> buf(4 * 72 * 3);
    DevBuf<int32_t> cu(std::vector<int32_t>{0, 4});
    DevBuf<dd::cuda_kernels::AttentionTile> tiles(std::vector<dd::cuda_kernels::AttentionTile>{{0, 4, 0, 0}});
    AttentionVarlenArgs a{};
    a.q = buf.p; a.k = buf.p + 72; a.v = buf.p + 144; a.o = buf.p;
    a.q_st = a.k_st = a.v_st = 216; a.o_st = 72;
    a.cu_seqlens = cu.p; a.B = 1; a.R = 4; a.H = 1; a.Dh = 72; a.scale = 1.0f; a.tensor_cores = true;
    a.tiles = tiles.p; a.n_tiles = 1;
    a.tile_rows = dd::cuda_kernels::kTcQueryTile;  // attention_varlen runs attention_flash2 (128-row tiles) here
    EXPECT_EQ(dd::cuda_kernels::attention_query_tile(a), dd::cuda_kernels::kFlash2QueryTile);
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    std::vector<dd::cuda_kernels::AttentionTile> t;
    const int32_t cus[3] = {0, 300, 301};
    EXPECT_FALSE(dd::cuda_kernels::build_attention_tiles(cus, 2, 0, t));  // no tile size
    ASSERT_TRUE(dd::cuda_kernels::build_attention_tiles(cus, 2, 128, t));
    ASSERT_EQ(t.size(), 4u);  // 3 tiles of sequence 0 (the last 44 rows), 1 of sequence 1
    EXPECT_EQ(t[2].q0, 256);
    EXPECT_EQ(t[3].start, 300);
    EXPECT_EQ(t[3].seq, 1);
}

// Grid limits checked at the host entry, before any launch: query tiles beyond 2^31 - 1 blocks (dense 2^20
// sequences of 2^20 tokens: 2^33 tiles of 128 rows) and more than 65535 heads, on every kernel.
TEST(EmuAttentionVarlen, GridLimitsRefusedAtTheHostEntry) {
    DevBuf<float> buf(64);
    for (bool tc : {false, true}) {
        AttentionVarlenArgs a{};
        a.q = a.k = a.v = a.o = buf.p;
        a.B = 1 << 20; a.T = 1 << 20; a.H = 1; a.Dh = 72; a.scale = 1.0f; a.tensor_cores = tc;
        a.q_sn = a.k_sn = a.v_sn = a.o_sn = 0;  // no memory is touched: the launch never happens
        EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue) << "tiles, tc " << tc;
        a.B = 1; a.T = 1; a.H = 65536;
        EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue) << "heads, tc " << tc;
    }
    DevBuf<uint16_t> buf16(std::vector<uint16_t>(128));  // bf16 operands (attention_flash2_bf16): the same limits
    AttentionVarlenArgs a{};
    a.q16 = a.k16 = a.v16 = buf16.p;
    a.o16 = buf16.p;
    a.B = 1 << 20; a.T = 1 << 20; a.H = 1; a.Dh = 72; a.scale = 1.0f; a.tensor_cores = true;
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue) << "tiles, bf16";
    a.B = 1; a.T = 1; a.H = 65536;
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue) << "heads, bf16";
}

TEST(EmuAttentionVarlen, RejectsBadArguments) {
    DevBuf<float> buf(64);
    AttentionVarlenArgs a{};
    a.q = a.k = a.v = buf.p;
    a.o = buf.p;
    a.B = 1; a.T = 1; a.H = 1; a.Dh = 129;
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    a.Dh = 0;
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    a.Dh = 8; a.o = nullptr;
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaErrorInvalidValue);
    a.o = buf.p; a.B = 0;  // nothing to do
    EXPECT_EQ(dd::cuda_kernels::attention_varlen(a, 0), cudaSuccess);
}
