// bf16 GEMM on tensor cores: mma.sync m16n8k16 fed by ldmatrix from tiles in dynamic shared memory.
// A 64x64 block tile, 4 warps in 2x2, each warp 32x32 (2 m16 x 4 n8 mma tiles, 32 fp32 accumulators
// per thread), K in steps of 32. Single-buffered and without cp.async on purpose: this is the
// reference shape of the ldmatrix / mma fragment plumbing, which later kernels build on.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cstdint>

#include "mma_gemm_bf16.cuh"
#include "simt/dd_mma.h"

namespace dd::cuda_kernels {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 32, kThreads = 128;
// Row strides padded by 8 elements (16 bytes): keeps every ldmatrix row 16-byte aligned and
// spreads the 8 rows of a matrix over different shared-memory banks.
constexpr int kLdA = kBK + 8;      // A tile [kBM][kLdA]
constexpr int kLdBnk = kBK + 8;    // B tile [kBN][kLdBnk] for B = [N][K]
constexpr int kLdBkn = kBN + 8;    // B tile [kBK][kLdBkn] for B = [K][N]

template <bool kBnk>
constexpr size_t smem_bytes() {
    return (size_t)(kBM * kLdA + (kBnk ? kBN * kLdBnk : kBK * kLdBkn)) * sizeof(__nv_bfloat16);
}

// 8 consecutive bf16 (16 bytes), zeros outside the matrix.
__device__ __forceinline__ void copy8(__nv_bfloat16* dst, const __nv_bfloat16* src, bool inside) {
    const uint4 v = inside ? *reinterpret_cast<const uint4*>(src) : make_uint4(0u, 0u, 0u, 0u);
    *reinterpret_cast<uint4*>(dst) = v;
}

// The min-blocks hint (4) matters: with the thread count alone ptxas 13.0 chose 72 registers for
// the [K][N] variant on sm_80 and spilled; with it, ~100 registers and no spills on sm_80 / sm_90.
template <bool kBnk>
__global__ void __launch_bounds__(kThreads, 4)
    gemm_bf16_kernel(const __nv_bfloat16* __restrict__ A, const __nv_bfloat16* __restrict__ B,
                     const float* __restrict__ bias, float* __restrict__ C, int M, int N, int K) {
    DD_DYNAMIC_SMEM(__nv_bfloat16, smem);
    __nv_bfloat16* As = smem;
    __nv_bfloat16* Bs = smem + kBM * kLdA;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 1, wn = warp & 1;
    const int m0 = blockIdx.y * kBM, n0 = blockIdx.x * kBN;

    float acc[2][4][4];
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += kBK) {
        for (int v = tid; v < kBM * kBK / 8; v += kThreads) {  // A tile: rows m, 8-element chunks of k
            const int r = v / (kBK / 8), c = (v % (kBK / 8)) * 8;
            const int gm = m0 + r, gk = k0 + c;
            copy8(As + r * kLdA + c, A + (size_t)gm * K + gk, gm < M && gk < K);
        }
        if (kBnk) {
            for (int v = tid; v < kBN * kBK / 8; v += kThreads) {  // rows n, chunks of k
                const int r = v / (kBK / 8), c = (v % (kBK / 8)) * 8;
                const int gn = n0 + r, gk = k0 + c;
                copy8(Bs + r * kLdBnk + c, B + (size_t)gn * K + gk, gn < N && gk < K);
            }
        } else {
            for (int v = tid; v < kBK * kBN / 8; v += kThreads) {  // rows k, chunks of n
                const int r = v / (kBN / 8), c = (v % (kBN / 8)) * 8;
                const int gk = k0 + r, gn = n0 + c;
                copy8(Bs + r * kLdBkn + c, B + (size_t)gk * N + gn, gk < K && gn < N);
            }
        }
        __syncthreads();

        DD_UNROLL
        for (int ks = 0; ks < kBK; ks += 16) {
            // A fragments: lanes 0-15 address rows 0-15 at k 0, lanes 16-31 the same rows at k 8,
            // so registers 0..3 are exactly a0a1 / a2a3 / a4a5 / a6a7 of the m16n8k16 A layout.
            uint32_t a[2][4];
            DD_UNROLL
            for (int mi = 0; mi < 2; ++mi)
                dd::simt::ldmatrix_x4(a[mi], As + (wm * 32 + mi * 16 + (lane & 15)) * kLdA + ks + (lane >> 4) * 8);
            // B fragments, two n8 tiles per ldmatrix.x4: matrix q = lane / 8 covers n rows
            // 8*(q/2).., k 8*(q%2)..; registers (0,1) -> tile 2p, (2,3) -> tile 2p+1.
            uint32_t b[4][2];
            DD_UNROLL
            for (int p = 0; p < 2; ++p) {
                uint32_t r[4];
                if (kBnk)
                    dd::simt::ldmatrix_x4(
                        r, Bs + (wn * 32 + p * 16 + (lane >> 4) * 8 + (lane & 7)) * kLdBnk + ks + ((lane >> 3) & 1) * 8);
                else  // [k][n] rows: the transposing load yields the same "col" fragment
                    dd::simt::ldmatrix_x4_trans(
                        r, Bs + (ks + ((lane >> 3) & 1) * 8 + (lane & 7)) * kLdBkn + wn * 32 + p * 16 + (lane >> 4) * 8);
                b[2 * p][0] = r[0];
                b[2 * p][1] = r[1];
                b[2 * p + 1][0] = r[2];
                b[2 * p + 1][1] = r[3];
            }
            DD_UNROLL
            for (int mi = 0; mi < 2; ++mi)
                DD_UNROLL
                for (int ni = 0; ni < 4; ++ni) dd::simt::mma_m16n8k16_bf16(acc[mi][ni], a[mi], b[ni], acc[mi][ni]);
        }
        __syncthreads();  // the next k tile overwrites As / Bs
    }

    // C fragment: c0,c1 at row g, cols 2t,2t+1; c2,c3 at row g+8.
    const int g = lane >> 2, t = lane & 3;
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) {
                const int row = m0 + wm * 32 + mi * 16 + g + 8 * (i >> 1);
                const int col = n0 + wn * 32 + ni * 8 + 2 * t + (i & 1);
                if (row < M && col < N) C[(size_t)row * N + col] = acc[mi][ni][i] + (bias ? bias[col] : 0.0f);
            }
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

}  // namespace

cudaError_t gemm_bf16(const __nv_bfloat16* A, const __nv_bfloat16* B, bool b_is_nk, const float* bias, float* C,
                      int M, int N, int K, cudaStream_t stream) {
    if (M <= 0 || N <= 0 || K <= 0 || K % 8 != 0 || (!b_is_nk && N % 8 != 0) || !aligned16(A) || !aligned16(B) || !C)
        return cudaErrorInvalidValue;
    const dim3 grid((unsigned)((N + kBN - 1) / kBN), (unsigned)((M + kBM - 1) / kBM));
    if (b_is_nk)
        return dd_launch(gemm_bf16_kernel<true>, grid, kThreads, smem_bytes<true>(), stream, A, B, bias, C, M, N, K);
    return dd_launch(gemm_bf16_kernel<false>, grid, kThreads, smem_bytes<false>(), stream, A, B, bias, C, M, N, K);
}

}  // namespace dd::cuda_kernels
