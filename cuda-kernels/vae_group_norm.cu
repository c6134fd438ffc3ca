// GroupNorm: one block per (sample, group). A group is one contiguous run of (C / groups) * HW floats,
// read three times: the sum, the centred square sum (two passes: no cancellation when |mean| >> std),
// then normalise + affine + SiLU. Statistics in fp32 per thread, combined by a block-wide tree sum.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cstdint>

#include "block_reduce.cuh"
#include "vae_group_norm.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) group_norm_kernel(const float* x, const float* gamma, const float* beta,
                                                              float* y, int groups, int per_group, int64_t HW,
                                                              float eps, bool silu) {
    __shared__ float scratch[32];
    const int g = blockIdx.x % groups;
    const int64_t count = (int64_t)per_group * HW, off = (int64_t)blockIdx.x * count;
    const float* xg = x + off;
    float* yg = y + off;

    float s = 0.0f;
    for (int64_t i = threadIdx.x; i < count; i += kThreads) s += xg[i];
    const float mean = block_sum(s, scratch) / (float)count;
    float q = 0.0f;
    for (int64_t i = threadIdx.x; i < count; i += kThreads) {
        const float d = xg[i] - mean;
        q = fmaf(d, d, q);
    }
    const float rstd = rsqrtf(block_sum(q, scratch) / (float)count + eps);

    // Channel by channel: scale / shift are uniform, no per-element division by HW.
    for (int c = 0; c < per_group; ++c) {
        const int ch = g * per_group + c;
        const float scale = rstd * (gamma ? gamma[ch] : 1.0f), shift = beta ? beta[ch] : 0.0f;
        const float* xc = xg + c * HW;
        float* yc = yg + c * HW;
        for (int64_t i = threadIdx.x; i < HW; i += kThreads) {
            float v = fmaf(xc[i] - mean, scale, shift);  // each element read, then written, by one thread
            if (silu) v = v / (1.0f + expf(-v));
            yc[i] = v;
        }
    }
}

}  // namespace

cudaError_t vae_group_norm(const float* x, const float* gamma, const float* beta, float* y, int N, int C,
                           int64_t HW, int groups, float eps, bool silu, cudaStream_t stream) {
    if (N < 0 || C < 0 || HW < 0 || groups <= 0 || C % groups != 0 || !(eps >= 0.0f)) return cudaErrorInvalidValue;
    if ((gamma == nullptr) != (beta == nullptr)) return cudaErrorInvalidValue;
    const int64_t blocks = (int64_t)N * groups;
    if (blocks == 0 || C == 0 || HW == 0) return cudaSuccess;
    if (!x || !y || blocks > 0x7fffffffLL) return cudaErrorInvalidValue;
    return dd_launch(group_norm_kernel, dim3((unsigned)blocks), kThreads, 0, stream, x, gamma, beta, y, groups,
                     C / groups, HW, eps, silu);
}

}  // namespace dd::cuda_kernels
