// fp32 Linear on TF32 tensor cores. 64x64 block tile, 4 warps in 2x2, each warp 32x32 = 2 m16 x 4 n8
// tiles of mma.sync m16n8k8 (32 fp32 accumulators per thread), K in steps of 32 through dynamic shared
// memory, where x / W tiles are stored already rounded to tf32. The fp32 variant keeps the same tiles and
// the same per-thread ownership of outputs (the mma C fragment) and replaces the mma by FMAs, so both
// share loads and epilogue.
//
// Width slicing without index arrays: the output columns are segments (W row start, y column start,
// length) and the reduction runs over segments (W column start, x column start, length); plain Linear is
// one segment of each. Segments travel in the kernel parameters.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>
#include <cstdint>

#include "bf16_bits.cuh"
#include "gemm_tf32.cuh"
#include "smem_opt_in.cuh"
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"
#include "warp_tile_mma.cuh"

#include <cuda_bf16.h>

namespace dd::cuda_kernels {
namespace {

using dd::simt::ld_global;
using dd::simt::ld_shared;
using dd::simt::st_global;
using dd::simt::st_shared;

constexpr int kBM = 64, kBN = 64, kBK = 32, kThreads = 128;
// Row stride kBK + 4 floats: fragment loads (8 rows g x 4 columns t per warp) hit 32 distinct banks.
constexpr int kLd = kBK + 4;
constexpr size_t kSmemBytes = (size_t)(kBM + kBN) * kLd * sizeof(float);

struct Seg {
    int w_start, io_start, len;
};

struct Params {
    LinearArgs a;
    int n_out, n_in;
    Seg out[kLinearMaxBlocks];
    int out_tile0[kLinearMaxBlocks];  // first blockIdx.x of each output segment
    Seg in[kLinearMaxBlocks];
    int in_tile0[kLinearMaxBlocks];  // multistage kernel: first k-tile of each input segment
    int in_tiles;                    // multistage kernel: k-tiles over all input segments
};

__device__ __forceinline__ float gelu_tanh_f(float x) {
    const float k0 = 0.7978845608028654f, k1 = 0.044715f;  // sqrt(2/pi)
    return 0.5f * x * (1.0f + tanhf(k0 * (x + k1 * x * x * x)));
}

// Operand rounding per precision, applied once when a tile is stored to shared memory. bf16 tiles feed
// mma.m16n8k16.bf16 (twice TF32's rate): two rounded floats pack into one register by their high halves.
enum Mode { kModeFp32 = 0, kModeTf32 = 1, kModeBf16 = 2 };
template <int kMode, int kBN>
struct MsKernelTag {};  // one dynamic shared memory opt-in flag per multistage instantiation

// lo, hi already bf16-rounded (low 16 bits zero): the pair as a bf16x2 register, lo in the low half.
__device__ __forceinline__ uint32_t pack_bf16x2(float lo, float hi) {
    return (__float_as_uint(lo) >> 16) | (__float_as_uint(hi) & 0xFFFF0000u);
}
template <int kMode>
__device__ __forceinline__ float to_operand(float v) {
    if (kMode == kModeTf32) return __uint_as_float(dd::simt::f32_to_tf32(v));
    if (kMode == kModeBf16) return __bfloat162float(__float2bfloat16_rn(v));
    return v;
}

// min-blocks hint 4 (<= 128 registers): without it ptxas may pick a tighter budget and spill.
template <int kMode>
__global__ void __launch_bounds__(kThreads, 4) linear_kernel(const Params p) {
    DD_DYNAMIC_SMEM(float, smem);
    float* As = smem;               // [kBM][kLd]: x rows, k
    float* Bs = smem + kBM * kLd;   // [kBN][kLd]: W rows, k
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 1, wn = warp & 1, g = lane >> 2, t = lane & 3;
    const LinearArgs& a = p.a;

    int os = 0;  // output segment of this block column (uniform scan, <= kLinearMaxBlocks steps)
    while (os + 1 < p.n_out && (int)blockIdx.x >= p.out_tile0[os + 1]) ++os;
    const Seg oseg = p.out[os];
    const int n0 = ((int)blockIdx.x - p.out_tile0[os]) * kBN;  // offset inside the segment
    const int m0 = blockIdx.y * kBM;

    float acc[2][4][4];
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

    for (int is = 0; is < p.n_in; ++is) {
        const Seg iseg = p.in[is];
        const float* ws = a.w + (int64_t)oseg.w_start * a.w_rs + iseg.w_start;
        for (int k0 = 0; k0 < iseg.len; k0 += kBK) {
            // 32 consecutive k per warp and row: coalesced; zeros outside the matrix / segment.
            for (int v = tid; v < kBM * kBK; v += kThreads) {
                const int r = v / kBK, c = v % kBK, gm = m0 + r, k = k0 + c;
                const int64_t at = (int64_t)gm * a.x_rs + iseg.io_start + k;
                const float x = !(gm < a.M && k < iseg.len) ? 0.0f
                                : a.x16                     ? bf16_value(ld_global(&a.x16[at]))
                                                            : ld_global(&a.x[at]);
                st_shared(&As[r * kLd + c], to_operand<kMode>(x));
            }
            for (int v = tid; v < kBN * kBK; v += kThreads) {
                const int r = v / kBK, c = v % kBK, n = n0 + r, k = k0 + c;
                const float w = n < oseg.len && k < iseg.len ? ld_global(&ws[(int64_t)n * a.w_rs + k]) : 0.0f;
                st_shared(&Bs[r * kLd + c], to_operand<kMode>(w));
            }
            __syncthreads();

            if (kMode == kModeBf16) {
                DD_UNROLL
                for (int ks = 0; ks < kBK; ks += 16) {
                    const float* Aw = As + (wm * 32) * kLd + ks;
                    const float* Bw = Bs + (wn * 32) * kLd + ks;
                    // A (16x16, row): register i holds row g (+8 for odd i), columns 2t, 2t+1 (+8 for i >= 2).
                    // B (16x8, col): register i holds k 2t, 2t+1 (+8 for i = 1) of column n g -> W row g.
                    uint32_t af[2][4], bf[4][2];
                    DD_UNROLL
                    for (int mi = 0; mi < 2; ++mi)
                        DD_UNROLL
                        for (int i = 0; i < 4; ++i) {
                            const float2 v = ld_shared(reinterpret_cast<const float2*>(
                                Aw + (mi * 16 + g + 8 * (i & 1)) * kLd + 2 * t + 8 * (i >> 1)));
                            af[mi][i] = pack_bf16x2(v.x, v.y);
                        }
                    DD_UNROLL
                    for (int ni = 0; ni < 4; ++ni)
                        DD_UNROLL
                        for (int i = 0; i < 2; ++i) {
                            const float2 v =
                                ld_shared(reinterpret_cast<const float2*>(Bw + (ni * 8 + g) * kLd + 2 * t + 8 * i));
                            bf[ni][i] = pack_bf16x2(v.x, v.y);
                        }
                    DD_UNROLL
                    for (int mi = 0; mi < 2; ++mi)
                        DD_UNROLL
                        for (int ni = 0; ni < 4; ++ni) dd::simt::mma_m16n8k16_bf16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
                }
            } else {
                DD_UNROLL
                for (int ks = 0; ks < kBK; ks += 8) {
                    const float* Bw = Bs + (wn * 32) * kLd + ks;  // W rows [n][k]
                    warp_tile_k8<kMode != kModeFp32>(acc, As + (wm * 32) * kLd + ks, kLd,
                                                     [&](int k, int n) { return ld_shared(&Bw[n * kLd + k]); });
                }
            }
            __syncthreads();  // the next k tile overwrites As / Bs
        }
    }

    // C fragment: c0, c1 at row g, columns 2t, 2t+1; c2, c3 at row g+8.
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) {
                const int m = m0 + wm * 32 + mi * 16 + g + 8 * (i >> 1);
                const int n = n0 + wn * 32 + ni * 8 + 2 * t + (i & 1);
                if (m >= a.M || n >= oseg.len) continue;
                const int wrow = oseg.w_start + n, col = oseg.io_start + n;
                float v = acc[mi][ni][i] + (a.bias ? ld_global(&a.bias[wrow]) : 0.0f);
                if (a.y16) {  // bf16 output: kStore or kGeluTanh (run() refuses a bf16 residual)
                    st_global(&a.y16[(int64_t)m * a.y_rs + col],
                              bf16_round_bits(a.epilogue == GemmEpilogue::kGeluTanh ? gelu_tanh_f(v) : v));
                    continue;
                }
                float* y = a.y + (int64_t)m * a.y_rs + col;
                if (a.epilogue == GemmEpilogue::kGeluTanh) {
                    st_global(y, gelu_tanh_f(v));
                } else if (a.epilogue == GemmEpilogue::kGatedResidual) {
                    if (a.gate) {
                        const int s = a.row_sample ? a.row_sample[m] : m / a.rows_per_sample;
                        v *= ld_global(&a.gate[(int64_t)s * a.gate_rs + col]);
                    }
                    st_global(y, ld_global(y) + v);
                } else {
                    st_global(y, v);
                }
            }
}

#include "gemm_tf32_multistage.cuh"
#include "gemm_bf16_weights.cuh"

// Appends (w_start, io_start, len) segments from host (start, length) pairs over a dimension of size
// dim; io offsets are the running sum of lengths. False on a bad block.
bool add_segments(const int64_t* blocks, int nblocks, int64_t dim, Seg* segs, int& n, int64_t& total) {
    n = 0;
    total = 0;
    if (nblocks < 0 || nblocks > kLinearMaxBlocks || (nblocks > 0 && !blocks)) return false;
    for (int b = 0; b < nblocks; ++b) {
        const int64_t s = blocks[2 * b], l = blocks[2 * b + 1];
        if (s < 0 || l < 0 || s + l > dim) return false;
        if (l > 0) segs[n++] = Seg{(int)s, (int)total, (int)l};
        total += l;
    }
    return true;
}

// Every 16-byte copy of the multistage kernel aligned (tensor-core precisions only).
// bf16 x (x16): its 16-B copies of 8 values (the bf16-weight kernel only).
bool multistage_aligned(const Params& p) {
    const LinearArgs& a = p.a;
    if (a.precision == GemmPrecision::kFp32 || a.path == GemmPath::kTile64) return false;
    const int x_vals = a.x16 ? 8 : 4;  // values per 16-B copy of x
    const uintptr_t x_addr = a.x16 ? reinterpret_cast<uintptr_t>(a.x16) : reinterpret_cast<uintptr_t>(a.x);
    if ((x_addr | reinterpret_cast<uintptr_t>(a.w)) % 16 || a.x_rs % x_vals || a.w_rs % 4) return false;
    for (int s = 0; s < p.n_in; ++s)
        if (p.in[s].w_start % 4 || p.in[s].io_start % x_vals || p.in[s].len % 4) return false;
    return true;
}

// Output tiles of width bn over the segments (out_tile0 filled); 0 when there is nothing to compute.
int64_t output_tiles(Params& p, int bn) {
    int64_t tiles = 0;
    for (int s = 0; s < p.n_out; ++s) {
        p.out_tile0[s] = (int)tiles;
        tiles += (p.out[s].len + bn - 1) / bn;
    }
    return tiles;
}

template <int kBN>
cudaError_t launch_multistage(Params& p, cudaStream_t stream) {
    const LinearArgs& a = p.a;
    const int64_t tiles = output_tiles(p, kBN);
    if (tiles == 0 || a.M == 0) return cudaSuccess;
    p.in_tiles = 0;
    for (int s = 0; s < p.n_in; ++s) {
        p.in_tile0[s] = p.in_tiles;
        p.in_tiles += (p.in[s].len + kMsBK - 1) / kMsBK;
    }
    const dim3 grid((unsigned)tiles, (unsigned)((a.M + kMsBM - 1) / kMsBM));
    constexpr size_t bytes = MsTile<kBN>::kSmem;
    // Tile widths spelled out in the launches: the emulator records the launch text, which the cost model
    // matches against ptxas's instantiations.
    if (a.precision == GemmPrecision::kBf16) {
        if (cudaError_t e = opt_in_dynamic_smem<MsKernelTag<kModeBf16, kBN>>(linear_ms_kernel<kModeBf16, kBN>, bytes)) return e;
        return kBN == 256 ? dd_launch(linear_ms_kernel<kModeBf16, 256>, grid, kMsThreads, bytes, stream, p)
                          : dd_launch(linear_ms_kernel<kModeBf16, 128>, grid, kMsThreads, bytes, stream, p);
    }
    if (cudaError_t e = opt_in_dynamic_smem<MsKernelTag<kModeTf32, kBN>>(linear_ms_kernel<kModeTf32, kBN>, bytes)) return e;
    return kBN == 256 ? dd_launch(linear_ms_kernel<kModeTf32, 256>, grid, kMsThreads, bytes, stream, p)
                      : dd_launch(linear_ms_kernel<kModeTf32, 128>, grid, kMsThreads, bytes, stream, p);
}

// The bf16-weight kernel's extra conditions (on top of multistage_aligned): its 16-B copies of w16.
bool w16_aligned(const Params& p) {
    const LinearArgs& a = p.a;
    if (a.precision != GemmPrecision::kBf16 || !a.w16 || reinterpret_cast<uintptr_t>(a.w16) % 16 || a.w16_rs % 8)
        return false;
    for (int s = 0; s < p.n_in; ++s)
        if (p.in[s].w_start % 8) return false;
    return true;
}

template <int kBN>
cudaError_t launch_w16(Params& p, cudaStream_t stream) {
    const LinearArgs& a = p.a;
    const int64_t tiles = output_tiles(p, kBN);
    if (tiles == 0 || a.M == 0) return cudaSuccess;
    p.in_tiles = 0;
    for (int s = 0; s < p.n_in; ++s) {
        p.in_tile0[s] = p.in_tiles;
        p.in_tiles += (p.in[s].len + kWBK - 1) / kWBK;
    }
    const dim3 grid((unsigned)tiles, (unsigned)((a.M + kMsBM - 1) / kMsBM));
    constexpr size_t bytes = WTile<kBN>::kSmem;
    if (cudaError_t e = opt_in_dynamic_smem<WKernelTag<kBN>>(linear_w16_kernel<kBN>, bytes)) return e;
    return kBN == 256 ? dd_launch(linear_w16_kernel<256>, grid, kMsThreads, bytes, stream, p)
                      : dd_launch(linear_w16_kernel<128>, grid, kMsThreads, bytes, stream, p);
}

// Output area computed with bm x bn tiles (padding included).
int64_t padded_area(const Params& p, int bm, int bn) {
    int64_t cols = 0;
    for (int s = 0; s < p.n_out; ++s) cols += (int64_t)(p.out[s].len + bn - 1) / bn * bn;
    return (int64_t)(p.a.M + bm - 1) / bm * bm * cols;
}

// The widest multistage tile whose padding adds at most 25% mma work over 64x64 tiles (the adaLN GEMVs of
// M = 2 x batch rows and the N = 32 final linear stay on the 64x64 kernel: the cost model gives 42 against
// 32 us for them on H100); 0: the 64x64 kernel.
int multistage_width(const Params& p) {
    if (!multistage_aligned(p)) return 0;
    const int64_t base = padded_area(p, kBM, kBN);
    for (int bn : {256, 128})
        if (4 * padded_area(p, kMsBM, bn) <= 5 * base) return bn;
    return 0;
}

#include "gemm_skinny.cuh"

cudaError_t run(Params& p, cudaStream_t stream) {
    const LinearArgs& a = p.a;
    const bool bf16_io = a.x16 || a.y16;
    if (!(a.x || a.x16) || (a.x && a.x16) || !a.w || !(a.y || a.y16) || (a.y && a.y16) || a.M < 0 ||
        (int64_t)a.M > 65535LL * kBM)
        return cudaErrorInvalidValue;
    if (bf16_io && (a.precision != GemmPrecision::kBf16 || (a.y16 && a.epilogue == GemmEpilogue::kGatedResidual)))
        return cudaErrorInvalidValue;
    if (a.epilogue == GemmEpilogue::kGatedResidual && a.gate && !a.row_sample && a.rows_per_sample <= 0)
        return cudaErrorInvalidValue;
    if (!bf16_io && skinny_takes(p)) return launch_skinny(p, stream);
    if (const int bn = multistage_width(p)) {
        if (w16_aligned(p)) return bn == 256 ? launch_w16<256>(p, stream) : launch_w16<128>(p, stream);
        if (!a.x16) return bn == 256 ? launch_multistage<256>(p, stream) : launch_multistage<128>(p, stream);
    }
    const int64_t tiles = output_tiles(p, kBN);
    if (tiles == 0 || a.M == 0) return cudaSuccess;
    const dim3 grid((unsigned)tiles, (unsigned)((a.M + kBM - 1) / kBM));
    if (a.precision == GemmPrecision::kFp32)
        return dd_launch(linear_kernel<kModeFp32>, grid, kThreads, kSmemBytes, stream, p);
    if (a.precision == GemmPrecision::kBf16)
        return dd_launch(linear_kernel<kModeBf16>, grid, kThreads, kSmemBytes, stream, p);
    return dd_launch(linear_kernel<kModeTf32>, grid, kThreads, kSmemBytes, stream, p);
}

}  // namespace

cudaError_t linear_out_blocks(const LinearArgs& a, const int64_t* blocks, int nblocks, int N, int K,
                              cudaStream_t stream) {
    if (N < 0 || K < 0) return cudaErrorInvalidValue;
    Params p{};
    p.a = a;
    int64_t width;
    if (!add_segments(blocks, nblocks, N, p.out, p.n_out, width)) return cudaErrorInvalidValue;
    p.in[0] = Seg{0, 0, K};
    p.n_in = K > 0 ? 1 : 0;
    return run(p, stream);
}

cudaError_t linear_in_blocks(const LinearArgs& a, const int64_t* blocks, int nblocks, int N, int K,
                             cudaStream_t stream) {
    if (N < 0 || K < 0) return cudaErrorInvalidValue;
    Params p{};
    p.a = a;
    int64_t width;
    if (!add_segments(blocks, nblocks, K, p.in, p.n_in, width)) return cudaErrorInvalidValue;
    p.out[0] = Seg{0, 0, N};
    p.n_out = N > 0 ? 1 : 0;
    return run(p, stream);
}

cudaError_t linear(const LinearArgs& a, int N, int K, cudaStream_t stream) {
    const int64_t whole[2] = {0, N};
    return linear_out_blocks(a, whole, 1, N, K, stream);
}

}  // namespace dd::cuda_kernels
