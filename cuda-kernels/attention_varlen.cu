// Flash-style attention, fp32 SIMT. A block takes kBQ query rows of one sequence and one head and walks
// the sequence's keys in tiles of kBK with an online softmax, so scores never leave registers. Four
// threads (a quad) share a query row: each scores every 4th key of a tile and owns every 4th output
// dimension; the quad exchanges probabilities by shuffles. Q / K / V tiles live in dynamic shared
// memory, zero-padded to the head-dim bucket kD so that any Dh <= 128 runs the same code.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>
#include <cstdint>

#include "attention_flash2.cuh"
#include "attention_flash2_bf16.cuh"
#include "attention_tiles.cuh"
#include "attention_varlen.cuh"

namespace dd::cuda_kernels {
namespace {

#ifndef DD_ATTENTION_VARLEN_MUTATION
// 1 only in the mutation-test build (cmake/DynditEmu.cmake): each quad lane takes the probability of its
// neighbour's key (src ^ 1), a wrong key ownership that the emulated attention tests must catch.
#define DD_ATTENTION_VARLEN_MUTATION 0
#endif

constexpr int kBQ = 32, kBK = 16, kThreads = 128;  // 32 rows x 4 threads
constexpr float kLog2e = 1.4426950408889634f;

// Row stride kD + 4 floats: rows stay 16-byte aligned and the rows a warp reads hit different banks.
template <int kD>
struct Ld {
    static constexpr int value = kD + 4;
};

template <int kD>
constexpr size_t smem_bytes() { return (size_t)(kBQ + 2 * kBK) * Ld<kD>::value * sizeof(float); }

// rows x kD tile of one head into shared memory, zeros outside [0, len) x [0, Dh) (dynamic shared memory
// starts NaN-filled, and 0 * NaN would leak into P V).
template <int kD>
__device__ void load_tile(float* dst, const float* base, int64_t st, int rows, int first, int len, int Dh,
                          float mul) {
    for (int i = threadIdx.x; i < rows * kD; i += kThreads) {
        const int r = i / kD, d = i - r * kD;
        const bool in = first + r < len && d < Dh;
        dst[r * Ld<kD>::value + d] = in ? base[(int64_t)(first + r) * st + d] * mul : 0.0f;
    }
}

// Min-blocks hint 2 (<= 255 registers): with 4 (<= 128) ptxas 13.0 spilled the kD = 128 variant.
template <int kD>
__global__ void __launch_bounds__(kThreads, 2) attention_kernel(const AttentionVarlenArgs p) {
    constexpr int kLd = Ld<kD>::value, kPer = kD / 4, kJ = kBK / 4;
    HeadTile tile;
    if (!head_tile<kBQ>(p, tile)) return;  // uniform over the block
    const int len = tile.len, q0 = tile.q0;
    const float *qb = tile.q, *kb = tile.k, *vb = tile.v;

    DD_DYNAMIC_SMEM(float, smem);
    float* Qs = smem;
    float* Ks = Qs + kBQ * kLd;
    float* Vs = Ks + kBK * kLd;
    const int tid = threadIdx.x, lane = tid & 31, r = tid >> 2, t = tid & 3;

    // Scores in the exp2 domain: q pre-multiplied by scale * log2(e).
    load_tile<kD>(Qs, qb, p.q_st, kBQ, q0, len, p.Dh, p.scale * kLog2e);

    float acc[kPer];
    DD_UNROLL
    for (int i = 0; i < kPer; ++i) acc[i] = 0.0f;
    float m = -INFINITY, l = 0.0f;  // running max (quad-uniform), this thread's part of the row sum

    for (int k0 = 0; k0 < len; k0 += kBK) {
        __syncthreads();  // previous tile fully consumed (and Q stored on the first pass)
        load_tile<kD>(Ks, kb, p.k_st, kBK, k0, len, p.Dh, 1.0f);
        load_tile<kD>(Vs, vb, p.v_st, kBK, k0, len, p.Dh, 1.0f);
        __syncthreads();

        float s[kJ];
        DD_UNROLL
        for (int jj = 0; jj < kJ; ++jj) s[jj] = 0.0f;
        for (int d = 0; d < kD; d += 4) {
            const float4 q4 = *reinterpret_cast<const float4*>(Qs + r * kLd + d);
            DD_UNROLL
            for (int jj = 0; jj < kJ; ++jj) {
                const float4 k4 = *reinterpret_cast<const float4*>(Ks + (4 * jj + t) * kLd + d);
                s[jj] += q4.x * k4.x + q4.y * k4.y + q4.z * k4.z + q4.w * k4.w;
            }
        }
        float mx = -INFINITY;
        DD_UNROLL
        for (int jj = 0; jj < kJ; ++jj) {
            if (k0 + 4 * jj + t >= len) s[jj] = -INFINITY;  // keys past the sequence
            mx = fmaxf(mx, s[jj]);
        }
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
        mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
        const float m_new = fmaxf(m, mx);  // finite: key k0 < len is valid
        const float corr = exp2f(m - m_new);  // 0 on the first tile
        m = m_new;
        l *= corr;
        DD_UNROLL
        for (int i = 0; i < kPer; ++i) acc[i] *= corr;
        DD_UNROLL
        for (int jj = 0; jj < kJ; ++jj) {
            s[jj] = exp2f(s[jj] - m_new);
            l += s[jj];
        }
        // P V: key 4*jj + src's probability sits in quad lane src.
        DD_UNROLL
        for (int jj = 0; jj < kJ; ++jj)
            DD_UNROLL
            for (int src = 0; src < 4; ++src) {
                const float pj = __shfl_sync(0xffffffffu, s[jj], (lane & ~3) | (DD_ATTENTION_VARLEN_MUTATION ? src ^ 1 : src));
                const float* vr = Vs + (4 * jj + src) * kLd + t;
                DD_UNROLL
                for (int i = 0; i < kPer; ++i) acc[i] += pj * vr[4 * i];
            }
    }
    l += __shfl_xor_sync(0xffffffffu, l, 1);
    l += __shfl_xor_sync(0xffffffffu, l, 2);
    if (q0 + r >= len) return;
    const float inv = 1.0f / l;
    float* ob = head_out_row(p, tile, q0 + r);
    DD_UNROLL
    for (int i = 0; i < kPer; ++i)
        if (4 * i + t < p.Dh) ob[4 * i + t] = acc[i] * inv;
}

template <int kD>
cudaError_t launch(const AttentionVarlenArgs& a, dim3 grid, cudaStream_t stream) {
    return dd_launch(attention_kernel<kD>, grid, kThreads, smem_bytes<kD>(), stream, a);
}

}  // namespace

int attention_query_tile(const AttentionVarlenArgs& a) {
    if (a.q16) return kFlash2QueryTile;  // bf16 operands: attention_flash2_bf16 only
    if (!a.tensor_cores) return kBQ;
    return attention_flash2_takes(a) ? kFlash2QueryTile : kTcQueryTile;
}

bool build_attention_tiles(const int32_t* cu, int B, int rows, std::vector<AttentionTile>& out) {
    out.clear();
    if (rows <= 0) return false;
    int64_t n = 0;
    for (int b = 0; b < B; ++b) n += ((int64_t)cu[b + 1] - cu[b] + rows - 1) / rows;
    if (n > 0x7fffffff) return false;
    out.reserve((size_t)n);
    for (int b = 0; b < B; ++b)
        for (int q0 = 0; q0 < cu[b + 1] - cu[b]; q0 += rows) out.push_back(AttentionTile{cu[b], cu[b + 1] - cu[b], q0, b});
    return true;
}

cudaError_t attention_varlen(const AttentionVarlenArgs& a, cudaStream_t stream) {
    if (a.q16) return attention_flash2_bf16(a, stream);
    if (a.tensor_cores) return attention_flash2_takes(a) ? attention_flash2(a, stream) : attention_tc(a, stream);
    return launch_by_bucket<kBQ>(a, [&](auto bucket, dim3 grid) { return launch<decltype(bucket)::value>(a, grid, stream); });
}

}  // namespace dd::cuda_kernels
