// Tensor-core instructions emulated as warp collectives: mma.sync m16n8k16 (bf16 / f16 -> f32),
// mma.sync m16n8k8 (tf32 -> f32) and ldmatrix m8n8 .x1/.x2/.x4 [.trans] .b16.
//
// Fragment layouts (g = lane / 4, t = lane % 4), from the PTX ISA (v9.2) sections 9.7.14.5.7
// "Matrix Fragments for mma.m16n8k8", 9.7.14.5.8 "... mma.m16n8k16 with floating point type" and
// 9.7.14.5.15 "ldmatrix"; cross-checked against CUTLASS/CuTe include/cute/atom/mma_traits_sm80.hpp
// (SM80_16x8x16_F32BF16BF16F32_TN inherits the F16 ALayout ((4,8),(2,2,2)):((32,1),(16,8,128)),
// BLayout ((4,8),(2,2)):((16,1),(8,64)), CLayout SM80_16x8_Row; SM80_16x8x8_F32TF32TF32F32_TN
// ALayout ((4,8),(2,2)):((16,1),(8,64)), BLayout ((4,8),2):((8,1),32)) and copy_traits_sm75.hpp
// (SM75_U32x4_LDSM_N, SM75_U16x8_LDSM_T), which decode to the same tables:
//   m16n8k16 A (16x16, 8 x 16-bit in 4 regs, element i in reg i/2, low half first):
//       row g + 8*((i>>1)&1), col 2t + (i&1) + 8*(i>>2)
//   m16n8k16 B (16x8, 4 x 16-bit in 2 regs): k 2t + (i&1) + 8*(i>>1), n g
//   m16n8k8 tf32 A (16x8, 4 regs): row g + 8*(i&1), col t + 4*(i>>1); B (8x8, 2 regs): k t + 4i, n g
//   C / D (16x8 f32, 4 regs): row g + 8*(i>>1), col 2t + (i&1)
//   ldmatrix: lanes 8m..8m+7 give the row addresses of matrix m; lane l receives in register m
//       row l/4, cols 2(l%4), 2(l%4)+1 (.trans: rows 2(l%4), 2(l%4)+1 of col l/4).
// DD_EMU_MMA_MUTATION=1 swaps A's rows g and g+8: a deliberately wrong table that the tests must
// catch (mutation test), so a wrong layout here cannot hide behind a matching wrong kernel.
#pragma once
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "emu_core.h"
#include "emu_mem.h"

#ifndef DD_EMU_MMA_MUTATION
#define DD_EMU_MMA_MUTATION 0
#endif

namespace dd::simt::emu {
// The mutant lives in its own inline namespace, so a mutant and a normal translation unit linked
// into one program cannot silently share (ODR-merge) each other's tables.
#if DD_EMU_MMA_MUTATION
inline namespace mma_mutant {
#else
inline namespace mma_ptx {
#endif

inline float bf16_bits_to_float(uint16_t h) {
    const uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
inline float f16_bits_to_float(uint16_t h) {
    __half_raw r;
    r.x = h;
    return __half2float(__half(r));
}
inline float tf32_bits_to_float(uint32_t u) {
    u &= 0xFFFFE000u;  // the tensor core reads sign, 8 exponent and 10 mantissa bits
    float f;
    memcpy(&f, &u, 4);
    return f;
}

inline int a_row_16bit(int g, int i) {
    const int half = (i >> 1) & 1;
    return g + 8 * (DD_EMU_MMA_MUTATION ? 1 - half : half);
}

struct MmaIn {
    const uint32_t* a;
    const uint32_t* b;
    const float* c;
};

// D = A*B + C for one 16x8 tile; products summed in double, one rounding to float (the hardware's
// accumulation order is unspecified: compare against references with a relative tolerance).
inline void mma_tile(const WarpCall& call, const float A[16][16], const float B[16][8], int K) {
    float C[16][8];
    for (int l = 0; l < 32; ++l) {
        const auto* in = static_cast<const MmaIn*>(call.in[l]);
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < 4; ++i) C[g + 8 * (i >> 1)][2 * t + (i & 1)] = in->c[i];
    }
    for (int l = 0; l < 32; ++l) {
        float* d = static_cast<float*>(call.out[l]);
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < 4; ++i) {
            const int m = g + 8 * (i >> 1), n = 2 * t + (i & 1);
            double s = C[m][n];
            for (int k = 0; k < K; ++k) s += (double)A[m][k] * (double)B[k][n];
            d[i] = (float)s;
        }
    }
}

template <bool BF16>
const char* mma_m16n8k16_fn(const WarpCall& call, char* err, size_t n) {
    if (call.mask != 0xffffffffu) return snprintf(err, n, "mma.sync.aligned needs all 32 lanes"), err;
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
        const auto* in = static_cast<const MmaIn*>(call.in[l]);
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < 8; ++i) {
            const uint16_t h = (uint16_t)(in->a[i / 2] >> (16 * (i & 1)));
            A[a_row_16bit(g, i)][2 * t + (i & 1) + 8 * (i >> 2)] = BF16 ? bf16_bits_to_float(h) : f16_bits_to_float(h);
        }
        for (int i = 0; i < 4; ++i) {
            const uint16_t h = (uint16_t)(in->b[i / 2] >> (16 * (i & 1)));
            B[2 * t + (i & 1) + 8 * (i >> 1)][g] = BF16 ? bf16_bits_to_float(h) : f16_bits_to_float(h);
        }
    }
    mma_tile(call, A, B, 16);
    return nullptr;
}

inline const char* mma_m16n8k8_tf32_fn(const WarpCall& call, char* err, size_t n) {
    if (call.mask != 0xffffffffu) return snprintf(err, n, "mma.sync.aligned needs all 32 lanes"), err;
    float A[16][16], B[16][8];
    for (int l = 0; l < 32; ++l) {
        const auto* in = static_cast<const MmaIn*>(call.in[l]);
        const int g = l / 4, t = l % 4;
        for (int i = 0; i < 4; ++i) {
            const int half = i & 1;
            A[g + 8 * (DD_EMU_MMA_MUTATION ? 1 - half : half)][t + 4 * (i >> 1)] = tf32_bits_to_float(in->a[i]);
        }
        for (int i = 0; i < 2; ++i) B[t + 4 * i][g] = tf32_bits_to_float(in->b[i]);
    }
    mma_tile(call, A, B, 8);
    return nullptr;
}

inline const WarpOp kMmaBf16{"mma.sync.m16n8k16.bf16", &mma_m16n8k16_fn<true>, kCountMmaBf16};
inline const WarpOp kMmaF16{"mma.sync.m16n8k16.f16", &mma_m16n8k16_fn<false>, kCountMmaF16};
inline const WarpOp kMmaTf32{"mma.sync.m16n8k8.tf32", &mma_m16n8k8_tf32_fn, kCountMmaTf32};

template <int NUM, bool TRANS>
const char* ldmatrix_fn(const WarpCall& call, char* err, size_t n) {
    if (call.mask != 0xffffffffu) return snprintf(err, n, "ldmatrix.sync.aligned needs all 32 lanes"), err;
    const void* rows[32];
    for (int r = 0; r < 8 * NUM; ++r) rows[r] = *static_cast<const void* const*>(call.in[r]);
    ldmatrix_count(rows, 8 * NUM, TRANS);
    for (int m = 0; m < NUM; ++m) {
        uint16_t M[8][8];
        for (int r = 0; r < 8; ++r) {
            const void* p = *static_cast<const void* const*>(call.in[8 * m + r]);
            if ((reinterpret_cast<uintptr_t>(p) & 15) != 0)
                return snprintf(err, n, "lane %d: row address %p is not 16-byte aligned", 8 * m + r, p), err;
            memcpy(M[r], p, 16);
        }
        for (int l = 0; l < 32; ++l) {
            const int q = l / 4, t = l % 4;
            const uint16_t lo = TRANS ? M[2 * t][q] : M[q][2 * t];
            const uint16_t hi = TRANS ? M[2 * t + 1][q] : M[q][2 * t + 1];
            static_cast<uint32_t*>(call.out[l])[m] = (uint32_t)lo | ((uint32_t)hi << 16);
        }
    }
    return nullptr;
}
template <int NUM, bool TRANS>
inline const WarpOp kLdmatrix{TRANS ? "ldmatrix.trans" : "ldmatrix", &ldmatrix_fn<NUM, TRANS>};

template <int NUM, bool TRANS>
inline void ldmatrix(uint32_t* r, const void* row_addr, const char* file, int line) {
    if (this_thread().lane < 8 * NUM) ldmatrix_lane(row_addr, file, line);
    warp_collective(kLdmatrix<NUM, TRANS>, 0xffffffffu, &row_addr, r, file, line);
}

}  // inline namespace
}  // namespace dd::simt::emu
