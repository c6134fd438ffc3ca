// Implicit-GEMM convolution, per sample: Y[o][p] = sum_k W[o][k] * X[k][p] with k = (c, a, b) over
// Ci * KS * KS and p over the H * W pixels; X[k][p] (im2col) is gathered on the fly and never stored.
// 64 (output channels) x 64 (pixels) block tile, 4 warps in 2x2, each 32x32 = 2 m16 x 4 n8 tiles of
// mma.sync m16n8k8 (tf32 in, fp32 accumulate), K in steps of 32 through dynamic shared memory, where the
// tiles are stored already rounded to tf32. The fp32 variant replaces the mma by FMAs on the same tiles
// and the same per-thread outputs (the C fragment), as in gemm_tf32.cu.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cstdint>

#include "simt/dd_mma.h"
#include "warp_tile_mma.cuh"
#include "vae_conv2d.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kBM = 64, kBN = 64, kBK = 32, kThreads = 128;
// As [kBM][kLdA] (o, k): A fragments (8 rows g x 4 columns t) hit 32 distinct banks with stride 36.
// Bs [kBK][kLdB] (k, p): stores run along p (conflict-free), B fragments (rows t, columns g) use banks
// 8t + g with stride 72.
constexpr int kLdA = kBK + 4, kLdB = kBN + 8;
constexpr size_t kSmemBytes = (size_t)(kBM * kLdA + kBK * kLdB) * sizeof(float);

template <bool kTf32>
__device__ __forceinline__ float to_operand(float v) {
    return kTf32 ? __uint_as_float(dd::simt::f32_to_tf32(v)) : v;
}

// KS: kernel size (1 or 3), a template so that k -> (c, a, b) divides by constants.
template <bool kTf32, int KS>
__global__ void __launch_bounds__(kThreads, 4) conv2d_kernel(const Conv2dArgs a) {
    DD_DYNAMIC_SMEM(float, smem);
    float* As = smem;
    float* Bs = smem + kBM * kLdA;
    constexpr int kTaps = KS * KS, kPad = (KS - 1) / 2;
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 1, wn = warp & 1, g = lane >> 2, t = lane & 3;
    const int HW = a.H * a.W, K = a.Ci * kTaps, n = blockIdx.z;
    const int p0 = blockIdx.x * kBN, o0 = blockIdx.y * kBM;
    const float* xn = a.x + (int64_t)n * a.Ci * HW;

    // Gather role: thread tid always fills pixel column bp = tid % 64 of Bs, rows k = tid / 64 + 2s.
    const int bp = tid % kBN, bk = tid / kBN, gp = p0 + bp;
    const bool pix_ok = gp < HW;
    const int pi = pix_ok ? gp / a.W : 0, pj = pix_ok ? gp % a.W : 0;

    float acc[2][4][4];
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += kBK) {
        // Weights [Co][K] are row-major: 32 consecutive k per row, coalesced; zeros past Co / K.
        for (int v = tid; v < kBM * kBK; v += kThreads) {
            const int r = v / kBK, c = v % kBK, o = o0 + r, k = k0 + c;
            As[r * kLdA + c] = to_operand<kTf32>(o < a.Co && k < K ? a.w[(int64_t)o * K + k] : 0.0f);
        }
        // im2col rows: consecutive threads take consecutive pixels of one tap; zero padding outside.
        for (int r = bk; r < kBK; r += kThreads / kBN) {
            const int k = k0 + r;
            float v = 0.0f;
            if (pix_ok && k < K) {
                const int c = k / kTaps, tap = k % kTaps;
                const int si = pi + tap / KS - kPad, sj = pj + tap % KS - kPad;
                if (si >= 0 && si < a.H && sj >= 0 && sj < a.W) v = xn[(int64_t)c * HW + si * a.W + sj];
            }
            Bs[r * kLdB + bp] = to_operand<kTf32>(v);
        }
        __syncthreads();

        DD_UNROLL
        for (int ks = 0; ks < kBK; ks += 8) {
            const float* Bw = Bs + ks * kLdB + wn * 32;  // im2col rows [k][pixel]
            warp_tile_k8<kTf32>(acc, As + (wm * 32) * kLdA + ks, kLdA, [&](int k, int n) { return Bw[k * kLdB + n]; });
        }
        __syncthreads();  // the next k tile overwrites As / Bs
    }

    // C fragment: c0, c1 at row (output channel) g, columns (pixels) 2t, 2t+1; c2, c3 at row g+8.
    // residual may be y: each element is read, then written, by the same thread.
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) {
                const int o = o0 + wm * 32 + mi * 16 + g + 8 * (i >> 1);
                const int p = p0 + wn * 32 + ni * 8 + 2 * t + (i & 1);
                if (o >= a.Co || p >= HW) continue;
                const int64_t idx = ((int64_t)n * a.Co + o) * HW + p;
                float v = acc[mi][ni][i] + (a.bias ? a.bias[o] : 0.0f);
                if (a.residual) v += a.residual[idx];
                a.y[idx] = v;
            }
}

template <bool kTf32>
cudaError_t launch(const Conv2dArgs& a, dim3 grid, cudaStream_t stream) {
    if (a.k == 1) return dd_launch(conv2d_kernel<kTf32, 1>, grid, kThreads, kSmemBytes, stream, a);
    return dd_launch(conv2d_kernel<kTf32, 3>, grid, kThreads, kSmemBytes, stream, a);
}

}  // namespace

cudaError_t vae_conv2d(const Conv2dArgs& a, cudaStream_t stream) {
    if (a.N < 0 || a.Ci < 0 || a.Co < 0 || a.H < 0 || a.W < 0 || (a.k != 1 && a.k != 3))
        return cudaErrorInvalidValue;
    const int64_t HW = (int64_t)a.H * a.W;
    if (a.N == 0 || a.Co == 0 || HW == 0) return cudaSuccess;
    // Pixel and reduction indices are 32-bit inside the kernel; grid y / z are limited to 65535.
    if (!a.x || !a.w || !a.y || HW > 0x7fffffffLL - kBN || (int64_t)a.Ci * a.k * a.k > 0x7fffffffLL - kBK ||
        (a.Co + kBM - 1) / kBM > 65535 || a.N > 65535)
        return cudaErrorInvalidValue;
    const dim3 grid((unsigned)((HW + kBN - 1) / kBN), (unsigned)((a.Co + kBM - 1) / kBM), (unsigned)a.N);
    return a.precision == ConvPrecision::kFp32 ? launch<false>(a, grid, stream) : launch<true>(a, grid, stream);
}

}  // namespace dd::cuda_kernels
