// Softmax attention over packed variable-length sequences (flash style: one pass over keys with an
// online softmax, fp32 math). Covers dd_attention_varlen and, with cu_seqlens == null, dd_attention.
#pragma once
#include <cstdint>
#include <vector>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// One query tile of a packed launch, built on the host (build_attention_tiles): block x of the grid computes query
// rows q0 .. q0 + tile rows - 1 (clipped to len) of sequence seq, whose tokens start at `start`.
struct alignas(16) AttentionTile {
    int32_t start, len, q0, seq;
};

// q, k, v, o: element (token, head, d) at base + token * *_st + head * *_sh + d (d contiguous), so q / k / v
// may be views of one packed qkv buffer. Strides are in elements.
//  - varlen (cu_seqlens != null, device array [B+1], non-decreasing from 0 to R): sequence b is tokens
//    cu_seqlens[b] .. cu_seqlens[b+1]-1; *_sn and T are ignored.
//  - dense (cu_seqlens == null): B sequences of T tokens, sequence b's token t at b * *_sn + t * *_st.
// heads: device array of n_heads head indices in [0, H) to compute (others untouched), or null = all H.
// out = softmax(q k^T * scale) v per sequence and head; each token attends only within its sequence.
struct AttentionVarlenArgs {
    const float* q; int64_t q_sn, q_st, q_sh;
    const float* k; int64_t k_sn, k_st, k_sh;
    const float* v; int64_t v_sn, v_st, v_sh;
    float* o; int64_t o_sn, o_st, o_sh;
    const int32_t* cu_seqlens;  // device, or null for the dense layout
    int B;                      // number of sequences
    int R;                      // varlen: total tokens (cu_seqlens[B]); bounds the grid
    int T;                      // dense: tokens per sequence
    int H, Dh;                  // 1 <= Dh <= 128
    const int32_t* heads;       // device, or null
    int n_heads;                // with heads
    float scale;
    bool tensor_cores = false;  // TF32 mma for Q K^T and P V (attention_tc.cu); false: fp32 FMAs
    // varlen: the query tiles as a device table (n_tiles entries, built for tile_rows query rows per tile, which
    // must be attention_query_tile(args)), or null: each block finds its tile by scanning cu_seqlens.
    const AttentionTile* tiles = nullptr;
    int n_tiles = 0, tile_rows = 0;
    // bf16 q / k / v / o (all four, attention_flash2_bf16.cu): q, k, v, o are null and these hold the data at the
    // same strides (in values); the result is the fp32 one rounded to bf16 once.
    const uint16_t *q16 = nullptr, *k16 = nullptr, *v16 = nullptr;
    uint16_t* o16 = nullptr;
};

// Query rows per block of the kernel attention_varlen will run for these arguments (tensor_cores, strides and
// pointers set): 32 (fp32), 64 (attention_tc) or 128 (attention_flash2, attention_flash2_bf16).
int attention_query_tile(const AttentionVarlenArgs& args);

// The tile table of B packed sequences (cu_seqlens on the host, checked: non-decreasing from 0) for tile_rows query
// rows per tile, appended to `out` (cleared first). False when the tiles exceed the grid's 2^31 - 1 blocks.
bool build_attention_tiles(const int32_t* cu_seqlens, int B, int tile_rows, std::vector<AttentionTile>& out);

// cudaErrorInvalidValue for bad sizes / null pointers; otherwise the launch's status.
cudaError_t attention_varlen(const AttentionVarlenArgs& args, cudaStream_t stream);

// The same on TF32 tensor cores (attention_tc.cu); attention_varlen calls it when args.tensor_cores is set (and
// attention_flash2_bf16 when the operands are bf16).
cudaError_t attention_tc(const AttentionVarlenArgs& args, cudaStream_t stream);

}  // namespace dd::cuda_kernels
