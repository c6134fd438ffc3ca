// Diffusion sampler updates and guidance combines, element-parallel, fp32. They reproduce the Java
// sampler's float32 arithmetic operation for operation (io.dyndit.sampling.DdpmUpdate / DdimUpdate,
// io.dyndit.model.Guidance): the schedule tables are float64 on the host and enter as float scalars.
// Layouts are contiguous row-major: latents [B, C, P], model outputs [B, Co, P] (P = H·W).
#pragma once
#include <cmath>
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// DDPM p_sample coefficients of one respaced step i, each (float) of the float64 table entry.
struct DdpmCoefs {
    float sqrt_recip;    // sqrt_recip_alphas_cumprod[i]
    float sqrt_recipm1;  // sqrt_recipm1_alphas_cumprod[i]
    float coef1, coef2;  // posterior_mean_coef1/2[i]
    float max_log;       // log_betas[i]                       (learned range)
    float min_log;       // posterior_log_variance_clipped[i]  (learned range)
    float fixed_log;     // fixed-large log variance[i]        (used when !learned_range)
};

// pred_xstart = sqrt_recip·x − sqrt_recipm1·ε; mean = coef1·x0 + coef2·x;
// learned_range: frac = (v + 1)/2, logvar = frac·max_log + (1 − frac)·min_log (v = output channel C + ch),
// else logvar = fixed_log; next = mean + exp(0.5·logvar)·noise, or mean when noise is NULL (step 0).
// out [B, Co, P] with Co >= 2C (learned_range) or >= C; pred_xstart may be NULL; next may equal x.
cudaError_t ddpm_update(const float* x, const float* out, const float* noise, float* pred_xstart, float* next,
                        int64_t B, int64_t C, int64_t Co, int64_t P, const DdpmCoefs& k, bool learned_range,
                        cudaStream_t stream);

// DDIM step coefficients in float32, as DdimUpdate computes them.
struct DdimCoefs {
    float sqrt_recip, sqrt_recipm1;
    float sqrt_ab_prev;  // (float) sqrt((double) ab_prev)
    float dir_coef;      // (float) sqrt((double) (1 − ab_prev − σ²))
    float sigma;         // η·sqrt((1 − ab_prev)/(1 − ab))·sqrt(1 − ab/ab_prev), float32
};

// DdimUpdate.sigma / apply's scalar prologue, float32 operation for operation (host code: exact as long as
// the including file is not built with fma contraction, e.g. -mfma with -ffp-contract=fast).
inline DdimCoefs ddim_coefs(double alphas_cumprod, double alphas_cumprod_prev, double sqrt_recip,
                            double sqrt_recipm1, double eta) {
    const float ab = (float)alphas_cumprod, ab_prev = (float)alphas_cumprod_prev;
    const float a = (float)std::sqrt((double)((1.0f - ab_prev) / (1.0f - ab)));
    const float b = (float)std::sqrt((double)(1.0f - ab / ab_prev));
    const float sigma = (float)eta * a * b;
    const float dir = (float)std::sqrt((double)(1.0f - ab_prev - sigma * sigma));
    return {(float)sqrt_recip, (float)sqrt_recipm1, (float)std::sqrt((double)ab_prev), dir, sigma};
}

// x0 = sqrt_recip·x − sqrt_recipm1·ε; ε' = (sqrt_recip·x − x0)/sqrt_recipm1;
// next = x0·sqrt_ab_prev + dir_coef·ε' (+ sigma·noise when noise is non-NULL and sigma != 0; the caller
// passes NULL at step 0). Variance channels of out (Co > C) are ignored; pred_xstart may be NULL.
cudaError_t ddim_update(const float* x, const float* out, const float* noise, float* pred_xstart, float* next,
                        int64_t B, int64_t C, int64_t Co, int64_t P, const DdimCoefs& k, cudaStream_t stream);

// DPM-Solver++ step scalars (io.dyndit.sampling.DpmSolverSchedule): k[0..1] = σ_i, α_i of the data prediction,
// k[2..] the update's for the order (see dd_dpm_update in dyndit.h).
struct DpmCoefs {
    float k[10];
};

// x0 = (x − k0·ε)/k1 (ε = channels < C of out) into x0; next = the order-1/2/3 multistep update from x, x0 and the
// previous data predictions m1 (order >= 2), m2 (order 3), each term rounded as io.dyndit.sampling.DpmSolverUpdate.
cudaError_t dpm_update(const float* x, const float* out, const float* m1, const float* m2, float* x0, float* next,
                       int64_t B, int64_t C, int64_t Co, int64_t P, const DpmCoefs& k, int order, cudaStream_t stream);

// DiT forward_with_cfg: out [2n, Co, P], rows [0, n) conditional, [n, 2n) unconditional; on channels
// < guided both halves become u + s·(c − u); other channels are left as they are.
cudaError_t cfg_combine(float* out, int64_t n, int64_t Co, int64_t P, int64_t guided, float s, cudaStream_t stream);

// FlexiDiT weak guidance: cond [n, Co, P] becomes g + s_w·(cond − g) on channels < guided, g = guide
// (same layout); other channels keep cond.
cudaError_t weak_guidance(float* cond, const float* guide, int64_t n, int64_t Co, int64_t P, int64_t guided,
                          float s_w, cudaStream_t stream);

}  // namespace dd::cuda_kernels
