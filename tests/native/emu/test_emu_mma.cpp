// mma.sync and ldmatrix emulation checked against fragment layouts encoded independently of the
// emulator: here in CUTLASS/CuTe's (thread, value) -> element form (mma_traits_sm80.hpp,
// copy_traits_sm75.hpp), there (emu_mma.h) as the PTX ISA's row/col formulas. Both must agree, and
// the mutation build (DD_EMU_MMA_MUTATION) must make these tests fail.
#include <cmath>
#include <cstring>

#include "emu_test_util.h"
#include "simt/dd_mma.h"

using emu_test::DevBuf;

namespace {

// CuTe layout ((4,8),(v0,v1,v2)) : ((s_t0, s_t1),(s_v0,s_v1,s_v2)) applied to thread t, value v.
struct TV {
    int st0, st1, sv0, sv1, sv2, nv0, nv1;
    int operator()(int t, int v) const {
        const int t0 = t % 4, t1 = t / 4;
        const int v0 = v % nv0, v1 = (v / nv0) % nv1, v2 = v / (nv0 * nv1);
        return st0 * t0 + st1 * t1 + sv0 * v0 + sv1 * v1 + sv2 * v2;
    }
};
// SM80_16x8x16_F16F16F16F16_TN (and its F32BF16BF16F32 / F32F16F16F32 children); index = m + 16k
// for A (M=16), n + 8k for B (N=8), m + 16n for C (M=16).
const TV kA16{32, 1, 16, 8, 128, 2, 2};
const TV kB16{16, 1, 8, 64, 0, 2, 2};
const TV kC{32, 1, 16, 8, 0, 2, 2};
// SM80_16x8x8_F32TF32TF32F32_TN.
const TV kA8{16, 1, 8, 64, 0, 2, 2};
const TV kB8{8, 1, 32, 0, 0, 2, 1};

enum Kind { kBf16, kF16, kTf32 };

uint16_t to16(float x, Kind k) {
    if (k == kBf16) {
        const __nv_bfloat16 b = __float2bfloat16(x);
        uint16_t u;
        memcpy(&u, &b, 2);
        return u;
    }
    const __half h = __float2half(x);
    uint16_t u;
    memcpy(&u, &h, 2);
    return u;
}

// One warp: builds its fragments from A [16][K], B [K][8], C [16][8] with the CuTe tables, runs
// one mma, scatters D back with the C table.
__global__ void mma_probe(const float* A, const float* B, const float* C, float* D, int kind) {
    const int lane = threadIdx.x;
    uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
    float c[4], d[4];
    if (kind == kTf32) {
        for (int v = 0; v < 4; ++v) {
            const int idx = kA8(lane, v);
            a[v] = dd::simt::f32_to_tf32(A[(idx % 16) * 8 + idx / 16]);
        }
        for (int v = 0; v < 2; ++v) {
            const int idx = kB8(lane, v);
            b[v] = dd::simt::f32_to_tf32(B[(idx / 8) * 8 + idx % 8]);
        }
    } else {
        for (int v = 0; v < 8; ++v) {
            const int idx = kA16(lane, v);
            a[v / 2] |= (uint32_t)to16(A[(idx % 16) * 16 + idx / 16], (Kind)kind) << (16 * (v % 2));
        }
        for (int v = 0; v < 4; ++v) {
            const int idx = kB16(lane, v);
            b[v / 2] |= (uint32_t)to16(B[(idx / 8) * 8 + idx % 8], (Kind)kind) << (16 * (v % 2));
        }
    }
    for (int v = 0; v < 4; ++v) {
        const int idx = kC(lane, v);
        c[v] = C[(idx % 16) * 8 + idx / 16];
    }
    if (kind == kBf16) dd::simt::mma_m16n8k16_bf16(d, a, b, c);
    else if (kind == kF16) dd::simt::mma_m16n8k16_f16(d, a, b, c);
    else dd::simt::mma_m16n8k8_tf32(d, a, b, c);
    for (int v = 0; v < 4; ++v) {
        const int idx = kC(lane, v);
        D[(idx % 16) * 8 + idx / 16] = d[v];
    }
}

void check_mma(Kind kind) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int K = kind == kTf32 ? 8 : 16;
    std::vector<float> A(16 * K), B(K * 8), C(16 * 8);
    // Values exactly representable in the input type, so the reference needs no rounding model.
    for (float& x : A) x = (float)rng.integer(-64, 64) / 16.0f;
    for (float& x : B) x = (float)rng.integer(-64, 64) / 16.0f;
    for (float& x : C) x = rng.normal();
    DevBuf<float> dA(A), dB(B), dC(C), dD(16 * 8);
    ASSERT_EQ(dd_launch(mma_probe, 1, 32, 0, 0, dA.p, dB.p, dC.p, dD.p, (int)kind), cudaSuccess);
    const auto D = dD.get();
    for (int m = 0; m < 16; ++m)
        for (int n = 0; n < 8; ++n) {
            double want = C[m * 8 + n];
            for (int k = 0; k < K; ++k) want += (double)A[m * K + k] * B[k * 8 + n];
            ASSERT_NEAR(D[m * 8 + n], want, 1e-5 * (1 + std::fabs(want))) << "m " << m << " n " << n;
        }
}

// ldmatrix: 4 matrices of 8x8 16-bit values in dynamic shared memory, value = 1000*mat + 8*row + col;
// lane 8m+r passes the address of row r of matrix m.
template <int NUM, bool TRANS>
__global__ void ldmatrix_probe(uint32_t* out) {
    DD_DYNAMIC_SMEM(uint16_t, s);
    const int lane = threadIdx.x;
    const int stride = 8 + 8;  // padded rows, as the GEMM uses
    for (int i = lane; i < 4 * 8 * stride; i += 32) {
        const int mat = i / (8 * stride), row = (i / stride) % 8, col = i % stride;
        s[i] = (uint16_t)(col < 8 ? 1000 * mat + 8 * row + col : 0xDEAD);
    }
    __syncwarp();
    uint32_t r[NUM];
    const uint16_t* row = s + (lane / 8) * 8 * stride + (lane % 8) * stride;
    if constexpr (TRANS) {
        if constexpr (NUM == 1) dd::simt::ldmatrix_x1_trans(r, row);
        if constexpr (NUM == 2) dd::simt::ldmatrix_x2_trans(r, row);
        if constexpr (NUM == 4) dd::simt::ldmatrix_x4_trans(r, row);
    } else {
        if constexpr (NUM == 1) dd::simt::ldmatrix_x1(r, row);
        if constexpr (NUM == 2) dd::simt::ldmatrix_x2(r, row);
        if constexpr (NUM == 4) dd::simt::ldmatrix_x4(r, row);
    }
    for (int m = 0; m < NUM; ++m) out[lane * 4 + m] = r[m];
}

// Expected element from CuTe's destination layouts, in bits of an 8x8 b16 matrix (row-major,
// 128 bits a row): LDSM_N: (32,32):(32,1); LDSM_T: ((4,8),(16,2)):((256,16),(1,128)).
uint16_t expected_half(int lane, int mat, int half, bool trans) {
    int bit;
    if (!trans) bit = 32 * lane + 16 * half;
    else bit = 256 * (lane % 4) + 16 * (lane / 4) + 128 * half;
    const int row = bit / 128, col = (bit % 128) / 16;
    return (uint16_t)(1000 * mat + 8 * row + col);
}

template <int NUM, bool TRANS>
void check_ldmatrix() {
    DevBuf<uint32_t> out(32 * 4);
    ASSERT_EQ(dd_launch(ldmatrix_probe<NUM, TRANS>, 1, 32, 4 * 8 * 16 * sizeof(uint16_t), 0, out.p), cudaSuccess);
    const auto v = out.get();
    for (int lane = 0; lane < 32; ++lane)
        for (int m = 0; m < NUM; ++m) {
            const uint32_t r = v[lane * 4 + m];
            EXPECT_EQ(r & 0xFFFF, expected_half(lane, m, 0, TRANS)) << "lane " << lane << " matrix " << m;
            EXPECT_EQ(r >> 16, expected_half(lane, m, 1, TRANS)) << "lane " << lane << " matrix " << m;
        }
}

__global__ void misaligned_ldmatrix(uint32_t* out) {
    DD_DYNAMIC_SMEM(uint16_t, s);
    uint32_t r[1];
    dd::simt::ldmatrix_x1(r, s + 1 + (threadIdx.x % 8) * 8);  // 2 bytes off
    out[threadIdx.x] = r[0];
}

__global__ void mma_in_diverged_warp(float* out) {
    uint32_t a[4] = {0, 0, 0, 0}, b[2] = {0, 0};
    float c[4] = {0, 0, 0, 0}, d[4];
    if (threadIdx.x < 16) dd::simt::mma_m16n8k16_bf16(d, a, b, c);  // .aligned: all 32 lanes required
    out[threadIdx.x] = 0;
}

}  // namespace

TEST(EmuMma, Bf16M16n8k16MatchesCuteLayouts) { check_mma(kBf16); }
TEST(EmuMma, F16M16n8k16MatchesCuteLayouts) { check_mma(kF16); }
TEST(EmuMma, Tf32M16n8k8MatchesCuteLayouts) { check_mma(kTf32); }

TEST(EmuMma, Tf32RoundingIsRoundNearestAway) {
    EXPECT_EQ(dd::simt::f32_to_tf32(1.0f), 0x3F800000u);
    EXPECT_EQ(dd::simt::f32_to_tf32(__uint_as_float(0x3F800FFFu)), 0x3F800000u);  // below half: down
    EXPECT_EQ(dd::simt::f32_to_tf32(__uint_as_float(0x3F801000u)), 0x3F802000u);  // tie: away
    EXPECT_EQ(dd::simt::f32_to_tf32(__uint_as_float(0xBF801000u)), 0xBF802000u);
}

TEST(EmuMma, LdmatrixX1) { check_ldmatrix<1, false>(); }
TEST(EmuMma, LdmatrixX2) { check_ldmatrix<2, false>(); }
TEST(EmuMma, LdmatrixX4) { check_ldmatrix<4, false>(); }
TEST(EmuMma, LdmatrixX1Trans) { check_ldmatrix<1, true>(); }
TEST(EmuMma, LdmatrixX2Trans) { check_ldmatrix<2, true>(); }
TEST(EmuMma, LdmatrixX4Trans) { check_ldmatrix<4, true>(); }

TEST(EmuMma, MisalignedLdmatrixRowFails) {
    DevBuf<uint32_t> out(32);
    const cudaError_t e = dd_launch(misaligned_ldmatrix, 1, 32, 256, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);
    EXPECT_NE(std::string(dd::simt::error_detail(e)).find("not 16-byte aligned"), std::string::npos);
}

TEST(EmuMma, MmaNeedsTheWholeWarp) {
    DevBuf<float> out(32);
    const cudaError_t e = dd_launch(mma_in_diverged_warp, 1, 32, 0, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);  // lanes 16-31 exit while 0-15 wait in the mma
}
