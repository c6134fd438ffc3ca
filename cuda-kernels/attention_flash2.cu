// FlashAttention-2-style attention on TF32 tensor cores (the tensor-core path for the tf32 and bf16 GEMM
// precisions when q / k / v / o allow 16-B copies; attention_tc.cu otherwise). A block takes kBQ = 128 query rows
// of one sequence and one head, eight warps of 16 rows, and walks the keys in tiles of kBK = 64:
//   Q: one 16-B cp.async pass into shared memory, then each warp's A fragments by ldmatrix.x4 into registers
//      (pre-scaled by scale * log2 e and rounded to TF32) for the whole key loop;
//   S (16 x 64 per warp) = Q K^T   as mma.m16n8k8.tf32, K's B fragments by ldmatrix.x4 (a K row's 4 fp32 of one
//      16-B row of an 8x8 b16 matrix are exactly b0 = K[key g][dim t]);
//   P = exp2(S - m) stays in registers: the C fragment holds keys 2t, 2t+1 of rows g, g+8, the A fragment of
//      the next mma wants k-columns t, t+4, so the P V product runs its 8 keys in the order
//      (0, 2, 4, 6, 1, 3, 5, 7): k-column t is key 2t, k-column t + 4 is key 2t + 1, and V's B fragment follows
//      the same order (b0 = V[key 2t][dim g], b1 = V[key 2t + 1][dim g]); a sum over keys does not care;
//   O (16 x kD) += P V              as mma.m16n8k8.tf32, V by 32-bit loads (ldmatrix.trans moves 16-bit
//      elements, not fp32: the row stride below makes the scalar loads conflict-free, one wavefront per 32
//      registers as ldmatrix);
//   K / V tiles by 16-B cp.async, double-buffered: the copy of tile j + 1 runs during the mma of tile j, one
//      barrier per tile.
// Shared-memory rows are kD + 4 floats (kD + 4 = 4 mod 8 words): the 8 rows of an ldmatrix matrix, the
// 8 rows of a quarter-warp's copies (one 16-B chunk column, 8 rows) and V's (2t, g) reads all hit distinct banks.
// Rows past the sequence and dims past Dh are zero-filled by the copies' source size. The softmax and the
// accumulations are fp32. Head dims in buckets 32, 64, 72 (DiT-XL/2, no padding), 96, 128.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>
#include <cstdint>

#include "attention_flash2.cuh"
#include "attention_tiles.cuh"
#include "online_softmax.cuh"
#include "smem_opt_in.cuh"
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"

namespace dd::cuda_kernels {
namespace {

using dd::simt::ld_shared;
using dd::simt::st_global;

constexpr int kBQ = kFlash2QueryTile, kBK = 64, kWarps = 8, kThreads = 32 * kWarps;
constexpr float kLog2e = 1.4426950408889634f;

template <int kD>
struct Fa2 {
    static constexpr int kLd = kD + 4;      // floats per shared-memory row
    static constexpr int kChunks = kD / 4;  // 16-B chunks per row
    static_assert(kLd % 8 == 4, "bank-spreading row stride");
    static_assert(kBQ == 2 * kBK, "Q is staged in the second K / V stage (K and V tiles of kBK rows each)");
    static constexpr int kStage = 2 * kBK * kLd;  // K tile then V tile
    static constexpr size_t kSmem = (size_t)2 * kStage * sizeof(float);
};

__device__ __forceinline__ uint32_t tf32_bits(uint32_t v) { return dd::simt::f32_to_tf32(__uint_as_float(v)); }
__device__ __forceinline__ uint32_t tf32_bits(float v) { return dd::simt::f32_to_tf32(v); }

// rows x kD of one head into a shared-memory tile by 16-B cp.async, zero-filled outside [0, len) x [0, Dh).
// Lane l of a warp copies row 8 i + (l & 7), chunk 4 j + (l >> 3): a quarter warp writes one chunk column of
// 8 rows (distinct banks), a warp reads 8 rows x 64 contiguous bytes.
template <int kD>
__device__ __forceinline__ void copy_tile(float* dst, const float* base, int64_t st, int rows, int first, int len,
                                          int Dh) {
    constexpr int kLd = Fa2<kD>::kLd, kGroups = (Fa2<kD>::kChunks + 3) / 4;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int it = warp; it < (rows / 8) * kGroups; it += kWarps) {
        const int r = (it / kGroups) * 8 + (lane & 7), c = (it % kGroups) * 4 + (lane >> 3);
        if (c >= Fa2<kD>::kChunks) continue;
        const int left = first + r < len ? Dh - 4 * c : 0;  // values of this chunk inside the head
        const int bytes = left <= 0 ? 0 : left >= 4 ? 16 : 4 * left;
        const float* src = bytes ? base + (int64_t)(first + r) * st + 4 * c : base;
        dd::simt::cp_async_cg16(dst + r * kLd + 4 * c, src, bytes);
    }
}

template <int kD>
__global__ void __launch_bounds__(kThreads, 1) attention_flash2_kernel(const AttentionVarlenArgs p) {
    constexpr int kLd = Fa2<kD>::kLd, kNd = kD / 8, kNk = kBK / 8;
    HeadTile tile;
    if (!head_tile<kBQ>(p, tile)) return;  // uniform over the block
    const int len = tile.len, q0 = tile.q0;

    DD_DYNAMIC_SMEM(float, smem);  // [2 stages][K tile, V tile]; Q staged in stage 1 before the key loop
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int n_tiles = (len + kBK - 1) / kBK;

    copy_tile<kD>(smem + Fa2<kD>::kStage, tile.q, p.q_st, kBQ, q0, len, p.Dh);
    copy_tile<kD>(smem, tile.k, p.k_st, kBK, 0, len, p.Dh);
    copy_tile<kD>(smem + kBK * kLd, tile.v, p.v_st, kBK, 0, len, p.Dh);
    dd::simt::cp_async_commit();
    dd::simt::cp_async_wait<0>();
    __syncthreads();

    // Q's A fragments: ldmatrix.x4 matrices (rows 0-7, dims ks..ks+3), (rows 8-15, same), (rows 0-7, ks+4..),
    // (rows 8-15, ks+4..) are a0..a3 of the m16n8k8 A fragment.
    uint32_t qf[kNd][4];
    {
        const float mul = p.scale * kLog2e;
        const float* row = smem + Fa2<kD>::kStage + (warp * 16 + ((lane >> 3) & 1) * 8 + (lane & 7)) * kLd + 4 * (lane >> 4);
        DD_UNROLL
        for (int n = 0; n < kNd; ++n) {
            dd::simt::ldmatrix_x4(qf[n], row + 8 * n);
            DD_UNROLL
            for (int i = 0; i < 4; ++i) qf[n][i] = tf32_bits(__uint_as_float(qf[n][i]) * mul);
        }
    }
    const bool rows_active = q0 + warp * 16 < len;  // a warp past the sequence only copies and waits

    float o[kNd][4];
    DD_UNROLL
    for (int n = 0; n < kNd; ++n)
        DD_UNROLL
        for (int i = 0; i < 4; ++i) o[n][i] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // rows g and g + 8 (quad-uniform max)

    // K ldmatrix.x4 row of this lane: matrices (keys 0-7, dims 0..3), (keys 0-7, dims 4..7), (keys 8-15, 0..3),
    // (keys 8-15, 4..7) are b0, b1 of two n8 key tiles.
    const int k_row = ((lane >> 4) << 3) + (lane & 7), k_col = ((lane >> 3) & 1) * 4;
    for (int j = 0; j < n_tiles; ++j) {
        dd::simt::cp_async_wait<0>();  // this thread's copies of tile j have landed
        __syncthreads();  // tile j complete; stage (j + 1) % 2 (tile j - 1, or Q) no longer read
        if (j + 1 < n_tiles) {
            float* next = smem + ((j + 1) & 1) * Fa2<kD>::kStage;
            copy_tile<kD>(next, tile.k, p.k_st, kBK, (j + 1) * kBK, len, p.Dh);
            copy_tile<kD>(next + kBK * kLd, tile.v, p.v_st, kBK, (j + 1) * kBK, len, p.Dh);
            dd::simt::cp_async_commit();
        }
        if (!rows_active) continue;
        const float* Ks = smem + (j & 1) * Fa2<kD>::kStage;
        const float* Vs = Ks + kBK * kLd;
        const int k0 = j * kBK;

        float s[kNk][4];
        DD_UNROLL
        for (int n = 0; n < kNk; ++n)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) s[n][i] = 0.0f;
        DD_UNROLL
        for (int ks = 0; ks < kD; ks += 8) {
            DD_UNROLL
            for (int n = 0; n < kNk; n += 2) {
                uint32_t r[4];
                dd::simt::ldmatrix_x4(r, Ks + (n * 8 + k_row) * kLd + ks + k_col);
                const uint32_t b0[2] = {tf32_bits(r[0]), tf32_bits(r[1])};
                const uint32_t b1[2] = {tf32_bits(r[2]), tf32_bits(r[3])};
                dd::simt::mma_m16n8k8_tf32(s[n], qf[ks / 8], b0, s[n]);
                dd::simt::mma_m16n8k8_tf32(s[n + 1], qf[ks / 8], b1, s[n + 1]);
            }
        }
        float corr[2];  // scores are in the exp2 domain already (Q scaled at load)
        online_softmax_step(s, k0, t, len, 1.0f, m, l, corr);
        rescale_rows(o, corr);
        DD_UNROLL
        for (int n = 0; n < kNk; ++n) {
            float e[4];
            DD_UNROLL
            for (int i = 0; i < 4; ++i) {
                e[i] = exp2f(s[n][i] - m[i >> 1]);
                l[i >> 1] += e[i];
            }
            // A fragment of keys 8n..8n+7 in the order above: a0 (g, key 2t), a1 (g+8, key 2t), a2 (g, key 2t+1),
            // a3 (g+8, key 2t+1).
            const uint32_t a[4] = {tf32_bits(e[0]), tf32_bits(e[2]), tf32_bits(e[1]), tf32_bits(e[3])};
            const float* v0 = Vs + (8 * n + 2 * t) * kLd + g;
            DD_UNROLL
            for (int d = 0; d < kNd; ++d) {
                const uint32_t b[2] = {tf32_bits(ld_shared(v0 + 8 * d)), tf32_bits(ld_shared(v0 + kLd + 8 * d))};
                dd::simt::mma_m16n8k8_tf32(o[d], a, b, o[d]);
            }
        }
    }
    if (!rows_active) return;
    quad_sum_rows(l);
    DD_UNROLL
    for (int r = 0; r < 2; ++r) {
        const int row = q0 + warp * 16 + g + 8 * r;
        if (row >= len) continue;
        const float inv = 1.0f / l[r];
        float* ob = head_out_row(p, tile, row);
        DD_UNROLL
        for (int n = 0; n < kNd; ++n) {
            const int d = n * 8 + 2 * t;
            if (d + 1 < p.Dh)
                st_global(reinterpret_cast<float2*>(ob + d), make_float2(o[n][2 * r] * inv, o[n][2 * r + 1] * inv));
            else if (d < p.Dh)
                st_global(ob + d, o[n][2 * r] * inv);
        }
    }
}

template <int kD>
cudaError_t launch(const AttentionVarlenArgs& a, dim3 grid, cudaStream_t stream) {
    constexpr size_t bytes = Fa2<kD>::kSmem;
    if (bytes > 48 * 1024) {  // opt in above the default 48 KiB (sm_80 allows 163 KiB), once per device
        if (cudaError_t e = opt_in_dynamic_smem<Fa2<kD>>(attention_flash2_kernel<kD>, bytes)) return e;
    }
    return dd_launch(attention_flash2_kernel<kD>, grid, kThreads, bytes, stream, a);
}

bool aligned(const void* p, unsigned bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace

bool attention_flash2_takes(const AttentionVarlenArgs& a) {
    const bool dense = a.cu_seqlens == nullptr;
    auto copies = [&](const float* p, int64_t sn, int64_t st, int64_t sh) {  // 16-B cp.async sources
        return aligned(p, 16) && st % 4 == 0 && sh % 4 == 0 && (!dense || sn % 4 == 0);
    };
    return copies(a.q, a.q_sn, a.q_st, a.q_sh) && copies(a.k, a.k_sn, a.k_st, a.k_sh) &&
           copies(a.v, a.v_sn, a.v_st, a.v_sh) && aligned(a.o, 8) && a.o_st % 2 == 0 && a.o_sh % 2 == 0 &&
           (!dense || a.o_sn % 2 == 0);  // float2 stores
}

cudaError_t attention_flash2(const AttentionVarlenArgs& a, cudaStream_t stream) {
    if (attention_args_ok(a) && !attention_flash2_takes(a)) return cudaErrorInvalidValue;
    return launch_by_bucket<kBQ, 72>(a, [&](auto bucket, dim3 grid) { return launch<decltype(bucket)::value>(a, grid, stream); });
}

}  // namespace dd::cuda_kernels
