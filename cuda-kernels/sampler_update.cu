// Sampler updates and guidance combines (see sampler_update.cuh). Memory bound: a 2-D grid, blockIdx.x
// over plane chunks of kThreads, blockIdx.y (grid-stride) over [batch, channel] rows, so accesses are
// coalesced and the only divisions are per row.
//
// Bit-exactness with the Java float32 code: every product and sum goes through __fmul_rn / __fadd_rn,
// which nvcc never contracts into an fma (a plain a*b + c would be fused and round once, not twice);
// a − b is written __fadd_rn(a, −b), the same IEEE operation. Division is IEEE '/' (the library is not
// built with -use_fast_math). exp is taken in double and rounded to float, as (float) Math.exp does.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "sampler_update.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGridY = 65535;

__device__ __forceinline__ float mul(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ float add(float a, float b) { return __fadd_rn(a, b); }
__device__ __forceinline__ float sub(float a, float b) { return __fadd_rn(a, -b); }

// x0 = sqrt_recip·x − sqrt_recipm1·ε (p_mean_variance's pred_xstart, shared by DDPM and DDIM).
__device__ __forceinline__ float pred_x0(float sr, float srm1, float xv, float e) {
    return sub(mul(sr, xv), mul(srm1, e));
}

struct StepArgs {
    const float* x; const float* out; const float* noise;
    float* pred_xstart; float* next;
    int64_t rows, C, Co, P;  // rows = B·C
};

template <bool kLearnedRange>
__global__ void __launch_bounds__(kThreads) ddpm_kernel(StepArgs a, DdpmCoefs k) {
    const int64_t p = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (p >= a.P) return;  // no barriers below
    for (int64_t r = blockIdx.y; r < a.rows; r += gridDim.y) {
        const int64_t b = r / a.C, ch = r - b * a.C;
        const int64_t xi = r * a.P + p, ei = (b * a.Co + ch) * a.P + p;
        const float xv = a.x[xi];
        const float x0 = pred_x0(k.sqrt_recip, k.sqrt_recipm1, xv, a.out[ei]);
        const float mean = add(mul(k.coef1, x0), mul(k.coef2, xv));
        if (a.pred_xstart) a.pred_xstart[xi] = x0;
        if (!a.noise) {  // last step: no noise, variance not needed
            a.next[xi] = mean;
            continue;
        }
        float log_var = k.fixed_log;
        if constexpr (kLearnedRange) {
            const float v = a.out[ei + a.C * a.P];
            const float frac = mul(add(v, 1.0f), 0.5f);  // == (v + 1)/2 exactly: halving is exact
            log_var = add(mul(frac, k.max_log), mul(sub(1.0f, frac), k.min_log));
        }
        const float sd = (float)exp((double)mul(0.5f, log_var));
        a.next[xi] = add(mean, mul(sd, a.noise[xi]));
    }
}

__global__ void __launch_bounds__(kThreads) ddim_kernel(StepArgs a, DdimCoefs k) {
    const int64_t p = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (p >= a.P) return;
    for (int64_t r = blockIdx.y; r < a.rows; r += gridDim.y) {
        const int64_t b = r / a.C, ch = r - b * a.C;
        const int64_t xi = r * a.P + p, ei = (b * a.Co + ch) * a.P + p;
        const float xv = a.x[xi];
        const float x0 = pred_x0(k.sqrt_recip, k.sqrt_recipm1, xv, a.out[ei]);
        const float eps = sub(mul(k.sqrt_recip, xv), x0) / k.sqrt_recipm1;  // _predict_eps_from_xstart
        const float mean = add(mul(x0, k.sqrt_ab_prev), mul(k.dir_coef, eps));
        if (a.pred_xstart) a.pred_xstart[xi] = x0;
        a.next[xi] = a.noise ? add(mean, mul(k.sigma, a.noise[xi])) : mean;
    }
}

struct DpmArgs {
    const float* x; const float* out; const float* m1; const float* m2;
    float* x0; float* next;
    int64_t rows, C, Co, P;
};

template <int kOrder>
__global__ void __launch_bounds__(kThreads) dpm_kernel(DpmArgs a, DpmCoefs c) {
    const int64_t p = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (p >= a.P) return;
    const float* k = c.k;
    for (int64_t r = blockIdx.y; r < a.rows; r += gridDim.y) {
        const int64_t b = r / a.C, ch = r - b * a.C;
        const int64_t xi = r * a.P + p, ei = (b * a.Co + ch) * a.P + p;
        const float xv = a.x[xi];
        const float x0 = sub(xv, mul(k[0], a.out[ei])) / k[1];
        float v = sub(mul(k[2], xv), mul(k[3], x0));
        if constexpr (kOrder == 2) {
            v = sub(v, mul(k[4], mul(k[5], sub(x0, a.m1[xi]))));
        } else if constexpr (kOrder == 3) {
            const float m1 = a.m1[xi];
            const float d10 = mul(k[6], sub(x0, m1)), d11 = mul(k[7], sub(m1, a.m2[xi]));
            const float d1 = add(d10, mul(k[8], sub(d10, d11))), d2 = mul(k[9], sub(d10, d11));
            v = sub(add(v, mul(k[4], d1)), mul(k[5], d2));
        }
        a.x0[xi] = x0;
        a.next[xi] = v;
    }
}

// cond[i] = u + s·(cond[i] − u), u = uncond[i]; also written to uncond[i] when kBoth (CFG's two halves).
// cond and uncond share the [n, Co, P] layout; rows run over n·guided.
template <bool kBoth>
__global__ void __launch_bounds__(kThreads)
    guidance_kernel(float* cond, float* uncond, int64_t rows, int64_t guided, int64_t Co, int64_t P, float s) {
    const int64_t p = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (p >= P) return;
    for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
        const int64_t i = r / guided, ch = r - i * guided;
        const int64_t o = (i * Co + ch) * P + p;
        const float u = uncond[o];
        const float g = add(u, mul(s, sub(cond[o], u)));
        cond[o] = g;
        if constexpr (kBoth) uncond[o] = g;
    }
}

bool grid_for(int64_t rows, int64_t P, dim3* grid) {
    const int64_t gx = (P + kThreads - 1) / kThreads;
    if (gx > 0x7fffffff) return false;
    *grid = dim3((unsigned)gx, (unsigned)(rows < kMaxGridY ? rows : kMaxGridY));
    return true;
}

bool bad_step(const float* x, const float* out, const float* next, int64_t B, int64_t C, int64_t Co, int64_t P,
              int64_t min_co) {
    return B < 0 || C < 0 || P < 0 || Co < min_co || ((B * C * P) > 0 && (!x || !out || !next));
}

}  // namespace

cudaError_t ddpm_update(const float* x, const float* out, const float* noise, float* pred_xstart, float* next,
                        int64_t B, int64_t C, int64_t Co, int64_t P, const DdpmCoefs& k, bool learned_range,
                        cudaStream_t stream) {
    if (bad_step(x, out, next, B, C, Co, P, learned_range ? 2 * C : C)) return cudaErrorInvalidValue;
    if (B * C * P == 0) return cudaSuccess;
    dim3 grid;
    if (!grid_for(B * C, P, &grid)) return cudaErrorInvalidValue;
    const StepArgs a{x, out, noise, pred_xstart, next, B * C, C, Co, P};
    return learned_range ? dd_launch(ddpm_kernel<true>, grid, dim3(kThreads), 0, stream, a, k)
                         : dd_launch(ddpm_kernel<false>, grid, dim3(kThreads), 0, stream, a, k);
}

cudaError_t ddim_update(const float* x, const float* out, const float* noise, float* pred_xstart, float* next,
                        int64_t B, int64_t C, int64_t Co, int64_t P, const DdimCoefs& k, cudaStream_t stream) {
    if (bad_step(x, out, next, B, C, Co, P, C)) return cudaErrorInvalidValue;
    if (B * C * P == 0) return cudaSuccess;
    dim3 grid;
    if (!grid_for(B * C, P, &grid)) return cudaErrorInvalidValue;
    // σ == 0 adds nothing, as Java's addNoise = i != 0 && σ != 0 (not mean + 0·noise: −0, inf, NaN)
    const StepArgs a{x, out, k.sigma != 0.0f ? noise : nullptr, pred_xstart, next, B * C, C, Co, P};
    return dd_launch(ddim_kernel, grid, dim3(kThreads), 0, stream, a, k);
}

cudaError_t dpm_update(const float* x, const float* out, const float* m1, const float* m2, float* x0, float* next,
                       int64_t B, int64_t C, int64_t Co, int64_t P, const DpmCoefs& k, int order, cudaStream_t stream) {
    if (bad_step(x, out, next, B, C, Co, P, C) || order < 1 || order > 3) return cudaErrorInvalidValue;
    if (B * C * P == 0) return cudaSuccess;
    if (!x0 || (order >= 2 && !m1) || (order == 3 && !m2)) return cudaErrorInvalidValue;
    dim3 grid;
    if (!grid_for(B * C, P, &grid)) return cudaErrorInvalidValue;
    const DpmArgs a{x, out, m1, m2, x0, next, B * C, C, Co, P};
    return order == 1   ? dd_launch(dpm_kernel<1>, grid, dim3(kThreads), 0, stream, a, k)
           : order == 2 ? dd_launch(dpm_kernel<2>, grid, dim3(kThreads), 0, stream, a, k)
                        : dd_launch(dpm_kernel<3>, grid, dim3(kThreads), 0, stream, a, k);
}

cudaError_t cfg_combine(float* out, int64_t n, int64_t Co, int64_t P, int64_t guided, float s, cudaStream_t stream) {
    if (n < 0 || P < 0 || guided < 0 || guided > Co || (n * guided * P > 0 && !out)) return cudaErrorInvalidValue;
    if (n * guided * P == 0) return cudaSuccess;
    dim3 grid;
    if (!grid_for(n * guided, P, &grid)) return cudaErrorInvalidValue;
    return dd_launch(guidance_kernel<true>, grid, dim3(kThreads), 0, stream, out, out + n * Co * P, n * guided, guided,
                     Co, P, s);
}

cudaError_t weak_guidance(float* cond, const float* guide, int64_t n, int64_t Co, int64_t P, int64_t guided,
                          float s_w, cudaStream_t stream) {
    if (n < 0 || P < 0 || guided < 0 || guided > Co || (n * guided * P > 0 && (!cond || !guide)))
        return cudaErrorInvalidValue;
    if (n * guided * P == 0) return cudaSuccess;
    dim3 grid;
    if (!grid_for(n * guided, P, &grid)) return cudaErrorInvalidValue;
    // guide is only read (kBoth = false): the kernel's non-const parameter serves both ops
    return dd_launch(guidance_kernel<false>, grid, dim3(kThreads), 0, stream, cond, const_cast<float*>(guide),
                     n * guided, guided, Co, P, s_w);
}

}  // namespace dd::cuda_kernels
