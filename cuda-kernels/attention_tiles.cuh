// Query-tile scheduling shared by the attention kernels: block index -> (sequence, first token, length, first
// query row of the tile) for packed (cu_seqlens) or dense sequences; false past the last tile (the grid is an upper
// bound because the lengths live on the device), and the grid size that bounds it.
#pragma once
#include <cstdint>
#include <type_traits>

#include "attention_varlen.cuh"

namespace dd::cuda_kernels {

template <int kBQ>
__device__ __forceinline__ bool locate_tile(const AttentionVarlenArgs& p, int tile, int& seq, int& start, int& len,
                                            int& q0) {
    if (p.tiles) {  // the host-built table
        if (tile >= p.n_tiles) return false;
        const AttentionTile t = p.tiles[tile];
        seq = t.seq;
        start = t.start;
        len = t.len;
        q0 = t.q0;
        return true;
    }
    if (!p.cu_seqlens) {
        const int per = (p.T + kBQ - 1) / kBQ;
        seq = tile / per;
        start = 0;
        len = p.T;
        q0 = (tile - seq * per) * kBQ;
        return seq < p.B;
    }
    int first = 0;
    for (int b = 0; b < p.B; ++b) {
        const int s = p.cu_seqlens[b], n = p.cu_seqlens[b + 1] - s;
        const int tiles = (n + kBQ - 1) / kBQ;
        if (tile < first + tiles) {
            seq = b;
            start = s;
            len = n;
            q0 = (tile - first) * kBQ;
            return true;
        }
        first += tiles;
    }
    return false;
}

// One block's work: query rows [q0, q0 + tile) of a sequence (tokens [start, start + len)) for head h, and that
// head's q / k / v bases at the sequence's first token (dense: sequence `dense` of the batch; varlen: 0, rows
// are addressed by the packed index alone).
// T: float, or uint16_t for the bf16 operands (AttentionVarlenArgs::q16 ...).
template <class T>
struct HeadTileOf {
    int start, len, q0, h;
    int64_t dense;
    const T *q, *k, *v;
};
using HeadTile = HeadTileOf<float>;

// The bases q, k, v of the launch (fp32 or bf16).
template <int kBQ, class T>
__device__ __forceinline__ bool head_tile(const AttentionVarlenArgs& p, const T* q, const T* k, const T* v,
                                          HeadTileOf<T>& t) {
    int seq;
    if (!locate_tile<kBQ>(p, blockIdx.x, seq, t.start, t.len, t.q0)) return false;
    t.h = p.heads ? p.heads[blockIdx.y] : (int)blockIdx.y;
    t.dense = p.cu_seqlens ? 0 : seq;
    t.q = q + t.dense * p.q_sn + (int64_t)t.start * p.q_st + (int64_t)t.h * p.q_sh;
    t.k = k + t.dense * p.k_sn + (int64_t)t.start * p.k_st + (int64_t)t.h * p.k_sh;
    t.v = v + t.dense * p.v_sn + (int64_t)t.start * p.v_st + (int64_t)t.h * p.v_sh;
    return true;
}
template <int kBQ>
__device__ __forceinline__ bool head_tile(const AttentionVarlenArgs& p, HeadTile& t) {
    return head_tile<kBQ>(p, p.q, p.k, p.v, t);
}

// Output row `row` of the tile's sequence (row < len) for the tile's head, in output o (fp32 or bf16).
template <class T, class O>
__device__ __forceinline__ O* head_out_row(const AttentionVarlenArgs& p, const HeadTileOf<T>& t, O* o, int row) {
    return o + t.dense * p.o_sn + (int64_t)(t.start + row) * p.o_st + (int64_t)t.h * p.o_sh;
}
__device__ __forceinline__ float* head_out_row(const AttentionVarlenArgs& p, const HeadTile& t, int row) {
    return head_out_row(p, t, p.o, row);
}

// Upper bound of the query tiles (each packed sequence wastes at most one partial tile).
template <int kBQ>
inline int64_t tile_bound(const AttentionVarlenArgs& a) {
    if (a.tiles) return a.n_tiles;
    return a.cu_seqlens ? ((int64_t)a.R + kBQ - 1) / kBQ + a.B : (int64_t)a.B * ((a.T + kBQ - 1) / kBQ);
}

// The argument checks the kernels' host entries make (head dim 1..128, counts within the grid's limits; the four
// operands fp32, or bf16 for the kernels that take bf16).
inline bool attention_args_ok(const AttentionVarlenArgs& a, bool bf16_kernel = false) {
    const bool varlen = a.cu_seqlens != nullptr;
    if (a.tiles && (!varlen || a.n_tiles < 0)) return false;
    const bool f32 = a.q && a.k && a.v && a.o && !a.q16 && !a.k16 && !a.v16 && !a.o16;
    const bool bf16 = a.q16 && a.k16 && a.v16 && a.o16 && !a.q && !a.k && !a.v && !a.o;
    return (bf16_kernel ? bf16 : f32) && a.B >= 0 && a.H > 0 && a.Dh >= 1 && a.Dh <= 128 && (varlen ? a.R >= 0 : a.T >= 0) &&
           (!a.heads || (a.n_heads >= 0 && a.n_heads <= 65535)) && (a.heads || a.H <= 65535);
}

// The host entries' common part: argument checks, the grid (query tiles x heads) and the head-dim bucket;
// launch(std::integral_constant<int, kD>{}, grid) starts the kernel for bucket kD (32, 64, 96 or 128, and kBucket).
// kBucket: 72 or 80 adds that bucket (DiT-XL/2's head dim 72 without padding, or padded to 80 for k16 mma steps).
template <int kBQ, int kBucket = 0, bool kBf16 = false, class Launch>
cudaError_t launch_by_bucket(const AttentionVarlenArgs& a, Launch&& launch) {
    if (!attention_args_ok(a, kBf16) || (a.tiles && a.tile_rows != kBQ)) return cudaErrorInvalidValue;
    const int64_t tiles = tile_bound<kBQ>(a);
    const int heads = a.heads ? a.n_heads : a.H;
    if (tiles > 0x7fffffff) return cudaErrorInvalidValue;
    if (tiles == 0 || heads == 0) return cudaSuccess;
    const dim3 grid((unsigned)tiles, (unsigned)heads);
    if (a.Dh <= 32) return launch(std::integral_constant<int, 32>{}, grid);
    if (a.Dh <= 64) return launch(std::integral_constant<int, 64>{}, grid);
    if (kBucket && a.Dh <= kBucket) return launch(std::integral_constant<int, kBucket ? kBucket : 96>{}, grid);
    if (a.Dh <= 96) return launch(std::integral_constant<int, 96>{}, grid);
    return launch(std::integral_constant<int, 128>{}, grid);
}

}  // namespace dd::cuda_kernels
