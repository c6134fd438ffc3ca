// FlashAttention-2-style attention with bf16 q / k / v / o in memory, on bf16 tensor cores (mma.m16n8k16.bf16,
// fp32 accumulation): half the bytes of attention_flash2 (its fp32 operands' DRAM traffic alone bounded it) and
// 16-bit shared-memory tiles, so V too is read by ldmatrix (.trans). A block takes kBQ = 128 query rows of one
// sequence and one head, eight warps of 16 rows, and walks the keys in tiles of kBK = 64:
//   Q: one 16-B cp.async pass into shared memory, then each warp's m16k16 A fragments by ldmatrix.x4 into registers
//      for the whole key loop;
//   S (16 x 64 per warp) = Q K^T   K's B fragments by ldmatrix.x4 (K rows are keys, contiguous in the head dim:
//      the non-transposed 8x8 matrices are the col-major B fragment), then scaled by scale * log2 e in fp32;
//   P = exp2(S - m) stays in registers: the C fragments of key tiles 2i, 2i + 1 (row g / g + 8, keys 2t, 2t + 1)
//      are exactly the m16n8k16 A fragment of keys 16 i .. 16 i + 15, rounded to bf16 (the row sums l stay fp32);
//   O (16 x Dh) += P V             V's B fragments by ldmatrix.x4.trans (V rows are keys: the transposed 8x8
//      matrices give b0 = V[key 2t, 2t + 1][dim g]);
//   K / V tiles by 16-B cp.async, double-buffered: the copy of tile j + 1 runs during the mma of tile j, one
//      barrier per tile. Q is staged in the second stage (kBQ = 2 kBK rows) before the loop.
// Shared-memory rows are kDk + 8 bf16 (an odd number of 16-B chunks): the 8 rows of an ldmatrix matrix and the 8
// rows of a quarter warp's copies (one chunk column) hit distinct bank groups. Rows past the sequence and dims
// past Dh are zero-filled by the copies' source size. The softmax and all sums are fp32; the output is rounded to
// bf16 once. Head dims in buckets 32, 64, 72 (DiT-XL/2: Q K^T over 80 = 5 k16 steps, P V over 9 n8 tiles), 96, 128.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>
#include <cstdint>

#include "attention_flash2.cuh"
#include "attention_flash2_bf16.cuh"
#include "attention_tiles.cuh"
#include "online_softmax.cuh"
#include "bf16_bits.cuh"
#include "smem_opt_in.cuh"
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"

namespace dd::cuda_kernels {
namespace {

using dd::simt::st_global;

constexpr int kBQ = kFlash2QueryTile, kBK = 64, kWarps = 8, kThreads = 32 * kWarps;
constexpr float kLog2e = 1.4426950408889634f;

template <int kD>
struct Fa2b {
    static constexpr int kDk = (kD + 15) / 16 * 16;  // Q K^T depth in k16 steps (zero-padded past Dh)
    static constexpr int kLd = kDk + 8;              // bf16 per shared-memory row
    static constexpr int kChunks = kDk / 8;          // 16-B chunks per row
    static_assert((kLd / 8) % 2 == 1, "an odd number of 16-B chunks per row spreads 8 rows over all banks");
    static_assert(kBQ == 2 * kBK, "Q is staged in the second K / V stage");
    static constexpr int kStage = 2 * kBK * kLd;  // K tile then V tile
    static constexpr size_t kSmem = (size_t)2 * kStage * sizeof(uint16_t);
};

// rows x kDk of one head into a shared-memory tile by 16-B cp.async (8 bf16), zero-filled outside [0, len) x [0, Dh).
// Lane l copies row 8 i + (l & 7), chunk 4 j + (l >> 3): a quarter warp writes one chunk column of 8 rows.
template <int kD>
__device__ __forceinline__ void copy_tile(uint16_t* dst, const uint16_t* base, int64_t st, int rows, int first,
                                          int len, int Dh) {
    constexpr int kLd = Fa2b<kD>::kLd, kChunks = Fa2b<kD>::kChunks, kGroups = (kChunks + 3) / 4;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    for (int it = warp; it < (rows / 8) * kGroups; it += kWarps) {
        const int r = (it / kGroups) * 8 + (lane & 7), c = (it % kGroups) * 4 + (lane >> 3);
        if (c >= kChunks) continue;
        const int left = first + r < len ? Dh - 8 * c : 0;  // values of this chunk inside the head
        const int bytes = left <= 0 ? 0 : left >= 8 ? 16 : 2 * left;
        const uint16_t* src = bytes ? base + (int64_t)(first + r) * st + 8 * c : base;
        dd::simt::cp_async_cg16(dst + r * kLd + 8 * c, src, bytes);
    }
}

// One block per SM guaranteed (<= 255 registers): with two (<= 128) ptxas 13 spilled the 64 and 72 buckets.
template <int kD>
__global__ void __launch_bounds__(kThreads, 1) attention_flash2_bf16_kernel(const AttentionVarlenArgs p) {
    constexpr int kLd = Fa2b<kD>::kLd, kNq = Fa2b<kD>::kDk / 16, kNv = kD / 8, kNs = kBK / 8;
    HeadTileOf<uint16_t> tile;
    if (!head_tile<kBQ>(p, p.q16, p.k16, p.v16, tile)) return;  // uniform over the block
    const int len = tile.len, q0 = tile.q0;

    DD_DYNAMIC_SMEM(uint16_t, smem);  // [2 stages][K tile, V tile]; Q staged in stage 1 before the key loop
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
    const int n_tiles = (len + kBK - 1) / kBK;

    copy_tile<kD>(smem + Fa2b<kD>::kStage, tile.q, p.q_st, kBQ, q0, len, p.Dh);
    copy_tile<kD>(smem, tile.k, p.k_st, kBK, 0, len, p.Dh);
    copy_tile<kD>(smem + kBK * kLd, tile.v, p.v_st, kBK, 0, len, p.Dh);
    dd::simt::cp_async_commit();
    dd::simt::cp_async_wait<0>();
    __syncthreads();

    // Q's A fragments: ldmatrix.x4 rows 0-15 at k (lanes 0-15) and k + 8 (lanes 16-31) are a0..a3 of m16n8k16.
    uint32_t qf[kNq][4];
    {
        const uint16_t* row = smem + Fa2b<kD>::kStage + (warp * 16 + (lane & 15)) * kLd + ((lane >> 4) << 3);
        DD_UNROLL
        for (int n = 0; n < kNq; ++n) dd::simt::ldmatrix_x4(qf[n], row + 16 * n);
    }
    const bool rows_active = q0 + warp * 16 < len;  // a warp past the sequence only copies and waits
    const float mul = p.scale * kLog2e;

    float o[kNv][4];
    DD_UNROLL
    for (int n = 0; n < kNv; ++n)
        DD_UNROLL
        for (int i = 0; i < 4; ++i) o[n][i] = 0.0f;
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f};  // rows g and g + 8 (quad-uniform max)

    // K ldmatrix.x4 row of this lane: matrices (keys 0-7, k), (keys 0-7, k + 8), (keys 8-15, k), (keys 8-15, k + 8)
    // are b0, b1 of two n8 key tiles.
    const int k_row = ((lane >> 4) << 3) + (lane & 7), k_col = ((lane >> 3) & 1) << 3;
    // V ldmatrix.x4.trans row: matrices (keys 0-7, dims d), (keys 8-15, d), (keys 0-7, d + 8), (keys 8-15, d + 8)
    // are b0, b1 of the n8 dim tiles d and d + 8 (x2: the first two, from lanes 0-15).
    const int v_row = (((lane >> 3) & 1) << 3) + (lane & 7), v_col = (lane >> 4) << 3;
    for (int j = 0; j < n_tiles; ++j) {
        dd::simt::cp_async_wait<0>();  // this thread's copies of tile j have landed
        __syncthreads();  // tile j complete; stage (j + 1) % 2 (tile j - 1, or Q) no longer read
        if (j + 1 < n_tiles) {
            uint16_t* next = smem + ((j + 1) & 1) * Fa2b<kD>::kStage;
            copy_tile<kD>(next, tile.k, p.k_st, kBK, (j + 1) * kBK, len, p.Dh);
            copy_tile<kD>(next + kBK * kLd, tile.v, p.v_st, kBK, (j + 1) * kBK, len, p.Dh);
            dd::simt::cp_async_commit();
        }
        if (!rows_active) continue;
        const uint16_t* Ks = smem + (j & 1) * Fa2b<kD>::kStage;
        const uint16_t* Vs = Ks + kBK * kLd;
        const int k0 = j * kBK;

        float s[kNs][4];
        DD_UNROLL
        for (int n = 0; n < kNs; ++n)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) s[n][i] = 0.0f;
        DD_UNROLL
        for (int kq = 0; kq < kNq; ++kq) {
            DD_UNROLL
            for (int n = 0; n < kNs; n += 2) {
                uint32_t r[4];
                dd::simt::ldmatrix_x4(r, Ks + (n * 8 + k_row) * kLd + 16 * kq + k_col);
                const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                dd::simt::mma_m16n8k16_bf16(s[n], qf[kq], b0, s[n]);
                dd::simt::mma_m16n8k16_bf16(s[n + 1], qf[kq], b1, s[n + 1]);
            }
        }
        float corr[2];  // scores times mul: the exp2 domain
        online_softmax_step(s, k0, t, len, mul, m, l, corr);
        rescale_rows(o, corr);
        DD_UNROLL
        for (int kk = 0; kk < kBK / 16; ++kk) {
            float e[2][4];
            DD_UNROLL
            for (int h = 0; h < 2; ++h)
                DD_UNROLL
                for (int i = 0; i < 4; ++i) {
                    e[h][i] = exp2f(s[2 * kk + h][i] - m[i >> 1]);
                    l[i >> 1] += e[h][i];
                }
            // A fragment of keys 16 kk .. 16 kk + 15: a0 (g, keys 2t, 2t+1), a1 (g+8, same), a2 / a3 (keys + 8).
            const uint32_t a[4] = {bf16x2_round(e[0][0], e[0][1]), bf16x2_round(e[0][2], e[0][3]),
                                   bf16x2_round(e[1][0], e[1][1]), bf16x2_round(e[1][2], e[1][3])};
            const uint16_t* vrow = Vs + (16 * kk + v_row) * kLd;
            DD_UNROLL
            for (int d = 0; d < kNv; d += 2) {
                if (d + 1 < kNv) {
                    uint32_t r[4];
                    dd::simt::ldmatrix_x4_trans(r, vrow + 8 * d + v_col);
                    const uint32_t b0[2] = {r[0], r[1]}, b1[2] = {r[2], r[3]};
                    dd::simt::mma_m16n8k16_bf16(o[d], a, b0, o[d]);
                    dd::simt::mma_m16n8k16_bf16(o[d + 1], a, b1, o[d + 1]);
                } else {
                    uint32_t r[2];
                    dd::simt::ldmatrix_x2_trans(r, vrow + 8 * d);
                    dd::simt::mma_m16n8k16_bf16(o[d], a, r, o[d]);
                }
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
        uint16_t* ob = head_out_row(p, tile, p.o16, row);
        DD_UNROLL
        for (int n = 0; n < kNv; ++n) {
            const int d = n * 8 + 2 * t;
            if (d + 1 < p.Dh)
                st_global(reinterpret_cast<uint32_t*>(ob + d), bf16x2_round(o[n][2 * r] * inv, o[n][2 * r + 1] * inv));
            else if (d < p.Dh)
                st_global(ob + d, bf16_round_bits(o[n][2 * r] * inv));
        }
    }
}

template <int kD>
cudaError_t launch(const AttentionVarlenArgs& a, dim3 grid, cudaStream_t stream) {
    constexpr size_t bytes = Fa2b<kD>::kSmem;
    if (bytes > 48 * 1024) {  // opt in above the default 48 KiB, once per device
        if (cudaError_t e = opt_in_dynamic_smem<Fa2b<kD>>(attention_flash2_bf16_kernel<kD>, bytes)) return e;
    }
    return dd_launch(attention_flash2_bf16_kernel<kD>, grid, kThreads, bytes, stream, a);
}

bool aligned(const void* p, unsigned bytes) { return reinterpret_cast<uintptr_t>(p) % bytes == 0; }

}  // namespace

bool attention_flash2_bf16_takes(const AttentionVarlenArgs& a) {
    const bool dense = a.cu_seqlens == nullptr;
    auto copies = [&](const uint16_t* p, int64_t sn, int64_t st, int64_t sh) {  // 16-B cp.async sources
        return p && aligned(p, 16) && st % 8 == 0 && sh % 8 == 0 && (!dense || sn % 8 == 0);
    };
    return copies(a.q16, a.q_sn, a.q_st, a.q_sh) && copies(a.k16, a.k_sn, a.k_st, a.k_sh) &&
           copies(a.v16, a.v_sn, a.v_st, a.v_sh) && a.o16 && aligned(a.o16, 4) && a.o_st % 2 == 0 &&
           a.o_sh % 2 == 0 && (!dense || a.o_sn % 2 == 0);  // bf16x2 stores
}

cudaError_t attention_flash2_bf16(const AttentionVarlenArgs& a, cudaStream_t stream) {
    if (!attention_flash2_bf16_takes(a)) return cudaErrorInvalidValue;
    return launch_by_bucket<kBQ, 72, true>(
        a, [&](auto bucket, dim3 grid) { return launch<decltype(bucket)::value>(a, grid, stream); });
}

}  // namespace dd::cuda_kernels
