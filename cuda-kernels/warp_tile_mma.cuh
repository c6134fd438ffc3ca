// One warp's 32x32 output tile (2 m16 x 4 n8 fragments, the mma C-fragment ownership: rows g, g+8, columns 2t,
// 2t+1) advanced by 8 steps of k from shared-memory tiles, on TF32 tensor cores or as fp32 FMAs with the same
// ownership, so one epilogue serves both. Shared by gemm_tf32.cu (B stored [n][k]) and vae_conv2d.cu (B stored
// [k][n]): B is read through b(k, n), k in [0,8), n in [0,32) of the warp's tile.
#pragma once
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"

namespace dd::cuda_kernels {

// A: the warp's first row at the current k, row-major with row stride lda (operands already tf32-rounded
// when kTensorCores).
template <bool kTensorCores, class BAt>
__device__ __forceinline__ void warp_tile_k8(float (&acc)[2][4][4], const float* A, int lda, BAt b) {
    const int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
    if (kTensorCores) {
        // A (16x8, row): a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4).
        // B (8x8, col): b0 (k t, n g), b1 (k t+4, n g).
        uint32_t af[2][4], bf[4][2];
        DD_UNROLL
        for (int mi = 0; mi < 2; ++mi)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) af[mi][i] = __float_as_uint(dd::simt::ld_shared(&A[(mi * 16 + g + 8 * (i & 1)) * lda + t + 4 * (i >> 1)]));
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 2; ++i) bf[ni][i] = __float_as_uint(b(t + 4 * i, ni * 8 + g));
        DD_UNROLL
        for (int mi = 0; mi < 2; ++mi)
            DD_UNROLL
            for (int ni = 0; ni < 4; ++ni) dd::simt::mma_m16n8k8_tf32(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
    } else {
        DD_UNROLL
        for (int kk = 0; kk < 8; ++kk) {
            float ar[2][2], br[4][2];
            DD_UNROLL
            for (int mi = 0; mi < 2; ++mi)
                DD_UNROLL
                for (int h = 0; h < 2; ++h) ar[mi][h] = dd::simt::ld_shared(&A[(mi * 16 + g + 8 * h) * lda + kk]);
            DD_UNROLL
            for (int ni = 0; ni < 4; ++ni)
                DD_UNROLL
                for (int e = 0; e < 2; ++e) br[ni][e] = b(kk, ni * 8 + 2 * t + e);
            DD_UNROLL
            for (int mi = 0; mi < 2; ++mi)
                DD_UNROLL
                for (int ni = 0; ni < 4; ++ni)
                    DD_UNROLL
                    for (int i = 0; i < 4; ++i) acc[mi][ni][i] = fmaf(ar[mi][i >> 1], br[ni][i & 1], acc[mi][ni][i]);
        }
    }
}

}  // namespace dd::cuda_kernels
