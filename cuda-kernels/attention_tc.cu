// Flash-style attention on TF32 tensor cores. A block takes kBQ = 64 query rows of one sequence and one head,
// four warps of 16 rows each, and walks the keys in tiles of kBK = 32 with an online softmax:
//   S (16 x 32 per warp) = Q K^T   as mma.m16n8k8.tf32 over the head dim (4 n8 tiles of keys),
//   the row max / sum over a quad of lanes (a C fragment row lives in 4 lanes), P = exp2(S - m),
//   O (16 x kD) += P V            as mma.m16n8k8.tf32 over the 32 keys, P passed through a warp-private smem tile
//                                  (the C fragment's columns 2t, 2t+1 are not the A fragment's t, t+4).
// Q (pre-scaled by scale * log2 e), K, V and P are rounded to TF32 when stored to shared memory; the softmax and
// the accumulations are fp32. Head dims are zero-padded to the bucket kD (32, 64, 72, 96, 128).
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>
#include <cstdint>

#include "attention_flash2.cuh"
#include "attention_tiles.cuh"
#include "online_softmax.cuh"
#include "attention_varlen.cuh"
#include "smem_opt_in.cuh"
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"

namespace dd::cuda_kernels {
namespace {

using dd::simt::ld_global;
using dd::simt::ld_shared;
using dd::simt::st_global;
using dd::simt::st_shared;

constexpr int kBQ = kTcQueryTile, kBK = 32, kWarps = 4, kThreads = 32 * kWarps, kLdP = kBK + 4;
constexpr float kLog2e = 1.4426950408889634f;

template <int kD>
struct Tc {
    // Q / K: fragment reads of 8 rows g x 4 columns t hit banks (kLd g + t) % 32: distinct when kLd % 32 is an odd
    // multiple of 4. V: reads of 4 rows t x 8 columns g hit (kLdV t + g) % 32: distinct when kLdV % 32 is 8 or 24.
    static constexpr int kLd = kD + 4;
    static constexpr int kLdV = kD % 16 == 8 ? kD : kD + 8;
    static_assert(kLd % 8 == 4 && kLdV % 16 == 8, "bank-spreading strides");
    static constexpr size_t kSmem =
        ((size_t)(kBQ + kBK) * kLd + (size_t)kBK * kLdV + (size_t)kWarps * 16 * kLdP) * sizeof(float);
};

__device__ __forceinline__ float tf32(float v) { return __uint_as_float(dd::simt::f32_to_tf32(v)); }

// rows x kD tile of one head into shared memory as TF32, zeros outside [0, len) x [0, Dh).
template <int kD, int kLdDst>
__device__ void load_tile_tf32(float* dst, const float* base, int64_t st, int rows, int first, int len, int Dh,
                               float mul) {
    for (int i = threadIdx.x; i < rows * kD; i += kThreads) {
        const int r = i / kD, d = i - r * kD;
        const bool in = first + r < len && d < Dh;
        st_shared(&dst[r * kLdDst + d], in ? tf32(ld_global(&base[(int64_t)(first + r) * st + d]) * mul) : 0.0f);
    }
}

template <int kD>
__global__ void __launch_bounds__(kThreads, 2) attention_tc_kernel(const AttentionVarlenArgs p) {
    constexpr int kLd = Tc<kD>::kLd, kLdV = Tc<kD>::kLdV, kNd = kD / 8;
    HeadTile tile;
    if (!head_tile<kBQ>(p, tile)) return;  // uniform over the block
    const int len = tile.len, q0 = tile.q0;
    const float *qb = tile.q, *kb = tile.k, *vb = tile.v;

    DD_DYNAMIC_SMEM(float, smem);
    float* Qs = smem;
    float* Ks = Qs + kBQ * kLd;
    float* Vs = Ks + kBK * kLd;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    float* Ps = Vs + kBK * kLdV + warp * 16 * kLdP;  // this warp's 16 x kBK probabilities
    const float* Qw = Qs + warp * 16 * kLd;

    load_tile_tf32<kD, kLd>(Qs, qb, p.q_st, kBQ, q0, len, p.Dh, p.scale * kLog2e);

    float o[kNd][4];
    DD_UNROLL
    for (int n = 0; n < kNd; ++n)
        DD_UNROLL
        for (int i = 0; i < 4; ++i) o[n][i] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // rows g and g + 8 (quad-uniform max)

    for (int k0 = 0; k0 < len; k0 += kBK) {
        __syncthreads();  // previous K / V consumed (and Q stored on the first pass)
        load_tile_tf32<kD, kLd>(Ks, kb, p.k_st, kBK, k0, len, p.Dh, 1.0f);
        load_tile_tf32<kD, kLdV>(Vs, vb, p.v_st, kBK, k0, len, p.Dh, 1.0f);
        __syncthreads();

        // S = Q K^T: A (16x8) a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); B (8x8) b0 (k t, n g), b1 (k t+4).
        float s[4][4];
        DD_UNROLL
        for (int n = 0; n < 4; ++n)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) s[n][i] = 0.0f;
        DD_UNROLL
        for (int ks = 0; ks < kD; ks += 8) {
            uint32_t a[4];
            DD_UNROLL
            for (int i = 0; i < 4; ++i) a[i] = __float_as_uint(ld_shared(&Qw[(g + 8 * (i & 1)) * kLd + ks + t + 4 * (i >> 1)]));
            DD_UNROLL
            for (int n = 0; n < 4; ++n) {
                const uint32_t b[2] = {__float_as_uint(ld_shared(&Ks[(n * 8 + g) * kLd + ks + t])),
                                       __float_as_uint(ld_shared(&Ks[(n * 8 + g) * kLd + ks + t + 4]))};
                dd::simt::mma_m16n8k8_tf32(s[n], a, b, s[n]);
            }
        }
        float corr[2];  // scores are in the exp2 domain already (Q pre-scaled)
        online_softmax_step(s, k0, t, len, 1.0f, m, l, corr);
        __syncwarp();  // the previous tile's P reads are done before it is overwritten
        DD_UNROLL
        for (int n = 0; n < 4; ++n)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) {
                const float e = exp2f(s[n][i] - m[i >> 1]);
                l[i >> 1] += e;
                st_shared(&Ps[(g + 8 * (i >> 1)) * kLdP + 8 * n + 2 * t + (i & 1)], tf32(e));
            }
        __syncwarp();
        rescale_rows(o, corr);
        // O += P V: A = P (16 x 8 keys), B = V (8 keys x 8 dims): b0 (key t, dim g), b1 (key t + 4, dim g).
        DD_UNROLL
        for (int ks = 0; ks < kBK; ks += 8) {
            uint32_t a[4];
            DD_UNROLL
            for (int i = 0; i < 4; ++i) a[i] = __float_as_uint(ld_shared(&Ps[(g + 8 * (i & 1)) * kLdP + ks + t + 4 * (i >> 1)]));
            DD_UNROLL
            for (int n = 0; n < kNd; ++n) {
                const uint32_t b[2] = {__float_as_uint(ld_shared(&Vs[(ks + t) * kLdV + n * 8 + g])),
                                       __float_as_uint(ld_shared(&Vs[(ks + t + 4) * kLdV + n * 8 + g]))};
                dd::simt::mma_m16n8k8_tf32(o[n], a, b, o[n]);
            }
        }
    }
    quad_sum_rows(l);
    DD_UNROLL
    for (int r = 0; r < 2; ++r) {
        const int row = q0 + warp * 16 + g + 8 * r;
        if (row >= len) continue;
        const float inv = 1.0f / l[r];
        float* ob = head_out_row(p, tile, row);
        DD_UNROLL
        for (int n = 0; n < kNd; ++n)
            DD_UNROLL
            for (int e = 0; e < 2; ++e) {
                const int d = n * 8 + 2 * t + e;
                if (d < p.Dh) st_global(&ob[d], o[n][2 * r + e] * inv);
            }
    }
}

template <int kD>
cudaError_t launch(const AttentionVarlenArgs& a, dim3 grid, cudaStream_t stream) {
    constexpr size_t bytes = Tc<kD>::kSmem;
    if (bytes > 48 * 1024) {  // opt in above the default 48 KiB (sm_80 allows 163 KiB)
        if (cudaError_t e = opt_in_dynamic_smem<Tc<kD>>(attention_tc_kernel<kD>, bytes)) return e;
    }
    return dd_launch(attention_tc_kernel<kD>, grid, kThreads, bytes, stream, a);
}

}  // namespace

cudaError_t attention_tc(const AttentionVarlenArgs& a, cudaStream_t stream) {
    return launch_by_bucket<kBQ, 72>(a, [&](auto bucket, dim3 grid) { return launch<decltype(bucket)::value>(a, grid, stream); });
}

}  // namespace dd::cuda_kernels
