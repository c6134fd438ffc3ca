// Embedding-path layout ops. All are memory bound (or tiny): a 2-D grid, blockIdx.x over a chunk of
// the contiguous output dimension, blockIdx.y (grid-stride) over output rows, so writes coalesce.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cmath>

#include "embed_ops.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGridY = 65535;

dim3 grid_for(int64_t rows, int64_t cols) {
    return dim3((unsigned)((cols + kThreads - 1) / kThreads), (unsigned)(rows < kMaxGridY ? rows : kMaxGridY));
}

// One output token row per y: rows = N*gh*gw, columns (c, a, b) of C*p*p.
__global__ void __launch_bounds__(kThreads)
    patchify_kernel(const float* x, float* out, int64_t tok_st, int64_t C, int64_t H, int64_t W, int64_t p,
                    int64_t rows) {
    const int64_t col = (int64_t)blockIdx.x * kThreads + threadIdx.x, pp = p * p;
    if (col >= C * pp) return;
    const int64_t c = col / pp, a = (col / p) % p, b = col % p;
    const int64_t gw = W / p, tokens = (H / p) * gw;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const int64_t n = r / tokens, i = (r % tokens) / gw, j = r % gw;
        out[r * tok_st + col] = x[((n * C + c) * H + i * p + a) * W + j * p + b];
    }
}

// One output image row per y: rows = N*C*H, columns w of W.
__global__ void __launch_bounds__(kThreads)
    unpatchify_kernel(const float* tok, int64_t tok_st, float* out, int64_t C, int64_t H, int64_t W, int64_t p,
                      int64_t rows) {
    const int64_t w = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (w >= W) return;
    const int64_t gw = W / p, tokens = (H / p) * gw, j = w / p, b = w % p;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const int64_t h = r % H, ch = (r / H) % C, n = r / (H * C);
        const int64_t i = h / p, a = h % p;
        out[r * W + w] = tok[(n * tokens + i * gw + j) * tok_st + (a * p + b) * C + ch];
    }
}

// The CPU's float32 exp (SLEEF-style: q = rint(x / ln2), two-part ln2 reduction, degree-6 polynomial,
// scale by 2^q), step for step with explicitly rounded multiplies and adds: nvcc would otherwise fuse
// them into fmas and the frequencies would differ from the CPU's in the last bit.
__device__ float reference_expf(float x) {
    const float r_ln2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187045e-06f;
    const int q = (int)rintf(__fmul_rn(x, r_ln2));
    float s = __fadd_rn(__fmul_rn((float)q, -ln2_hi), x);
    s = __fadd_rn(__fmul_rn((float)q, -ln2_lo), s);
    float u = 0.000198527617612853646278381f;
    u = __fadd_rn(__fmul_rn(u, s), 0.00139304355252534151077271f);
    u = __fadd_rn(__fmul_rn(u, s), 0.00833336077630519866943359f);
    u = __fadd_rn(__fmul_rn(u, s), 0.0416664853692054748535156f);
    u = __fadd_rn(__fmul_rn(u, s), 0.166666671633720397949219f);
    u = __fadd_rn(__fmul_rn(u, s), 0.5f);
    u = __fadd_rn(1.0f, __fadd_rn(__fmul_rn(__fmul_rn(s, s), u), s));
    return ldexpf(u, q);
}

// One sample per y, k over x. cos / sin in double then one rounding: the CPU rounds the exact value
// once, and float cosf / sinf on the device may be off by up to 2 ulp.
__global__ void __launch_bounds__(kThreads)
    timestep_kernel(const float* t, float* out, int64_t N, int64_t dim, float neg_log) {
    const int64_t half = dim / 2, k = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    for (int64_t n = blockIdx.y; n < N; n += gridDim.y) {
        float* o = out + n * dim;
        if (k < half) {
            const float e = __fmul_rn(neg_log, (float)k) / (float)half;  // IEEE division (no fast-math)
            const float a = __fmul_rn(t[n], reference_expf(e));
            o[k] = (float)cos((double)a);
            o[half + k] = (float)sin((double)a);
        }
        if (k == 0 && (dim & 1)) o[dim - 1] = 0.0f;
    }
}

__global__ void __launch_bounds__(kThreads)
    add_broadcast_kernel(float* y, int64_t y_sn, int64_t y_sr, const float* b, int64_t b_sr, int64_t R, int64_t D,
                         int64_t rows) {
    const int64_t c = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (c >= D) return;
    for (int64_t q = blockIdx.y; q < rows; q += gridDim.y) {
        const int64_t n = q / R, r = q % R;
        y[n * y_sn + r * y_sr + c] += b[r * b_sr + c];
    }
}

bool patch_shape_ok(int64_t N, int64_t C, int64_t H, int64_t W, int64_t p) {
    return N >= 0 && C > 0 && p > 0 && H >= 0 && W >= 0 && H % p == 0 && W % p == 0;
}

}  // namespace

cudaError_t patchify(const float* x, float* out, int64_t tok_st, int64_t N, int64_t C, int64_t H, int64_t W,
                     int64_t p, cudaStream_t stream) {
    if (!patch_shape_ok(N, C, H, W, p) || tok_st < C * p * p || !x || !out) return cudaErrorInvalidValue;
    const int64_t rows = N * (H / p) * (W / p);
    if (rows == 0) return cudaSuccess;
    return dd_launch(patchify_kernel, grid_for(rows, C * p * p), dim3(kThreads), 0, stream, x, out, tok_st, C, H, W, p,
                     rows);
}

cudaError_t unpatchify(const float* tokens, int64_t tok_st, float* out, int64_t N, int64_t C, int64_t H, int64_t W,
                       int64_t p, cudaStream_t stream) {
    if (!patch_shape_ok(N, C, H, W, p) || tok_st < C * p * p || !tokens || !out) return cudaErrorInvalidValue;
    const int64_t rows = N * C * H;
    if (rows == 0 || W == 0) return cudaSuccess;
    return dd_launch(unpatchify_kernel, grid_for(rows, W), dim3(kThreads), 0, stream, tokens, tok_st, out, C, H, W, p,
                     rows);
}

cudaError_t timestep_embedding(const float* t, float* out, int64_t N, int64_t dim, float max_period,
                               cudaStream_t stream) {
    if (N < 0 || dim < 1 || !(max_period > 0.0f) || !t || !out) return cudaErrorInvalidValue;
    if (N == 0) return cudaSuccess;
    const float neg_log = (float)-std::log((double)max_period);  // as the CPU: log in double, one rounding
    const int64_t cols = dim / 2 > 0 ? dim / 2 : 1;               // dim == 1: one thread writes the zero
    return dd_launch(timestep_kernel, grid_for(N, cols), dim3(kThreads), 0, stream, t, out, N, dim, neg_log);
}

cudaError_t add_broadcast(float* y, int64_t y_sn, int64_t y_sr, const float* b, int64_t b_sr, int64_t N, int64_t R,
                          int64_t D, cudaStream_t stream) {
    if (N < 0 || R < 0 || D < 0 || !y || !b) return cudaErrorInvalidValue;
    const int64_t rows = N * R;
    if (rows == 0 || D == 0) return cudaSuccess;
    return dd_launch(add_broadcast_kernel, grid_for(rows, D), dim3(kThreads), 0, stream, y, y_sn, y_sr, b, b_sr, R, D,
                     rows);
}

}  // namespace dd::cuda_kernels
