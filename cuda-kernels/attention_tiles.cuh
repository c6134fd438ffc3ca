// Query-tile scheduling shared by the attention kernels: block index -> (sequence, first token, length, first
// query row of the tile) for packed (cu_seqlens) or dense sequences; false past the last tile (the grid is an upper
// bound because the lengths live on the device), and the grid size that bounds it.
#pragma once
#include <cstdint>

#include "attention_varlen.cuh"

namespace dd::cuda_kernels {

template <int kBQ>
__device__ __forceinline__ bool locate_tile(const AttentionVarlenArgs& p, int tile, int& seq, int& start, int& len,
                                            int& q0) {
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

// Upper bound of the query tiles (each packed sequence wastes at most one partial tile).
template <int kBQ>
inline int64_t tile_bound(const AttentionVarlenArgs& a) {
    return a.cu_seqlens ? ((int64_t)a.R + kBQ - 1) / kBQ + a.B : (int64_t)a.B * ((a.T + kBQ - 1) / kBQ);
}

// The argument checks both kernels' host entries make (head dim 1..128, counts within the grid's limits).
inline bool attention_args_ok(const AttentionVarlenArgs& a) {
    const bool varlen = a.cu_seqlens != nullptr;
    return a.q && a.k && a.v && a.o && a.B >= 0 && a.H > 0 && a.Dh >= 1 && a.Dh <= 128 && (varlen ? a.R >= 0 : a.T >= 0) &&
           (!a.heads || (a.n_heads >= 0 && a.n_heads <= 65535)) && (a.heads || a.H <= 65535);
}

}  // namespace dd::cuda_kernels
