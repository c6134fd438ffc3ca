// The VAE ops' backend seam, kept apart from backend.h: one parameter struct per op (raw pointers and
// sizes, validated by ops_vae.cpp, all tensors dense) and a table per device.
#pragma once
#include <cstdint>

#include "dyndit/dyndit.h"

namespace dd {

// y = conv(x, w) + bias + residual, stride 1, zero padding (k-1)/2; NCHW / OIHW, dense.
struct Conv2dParams {
    const float* x;
    const float* w;
    const float* bias;      // [Co] or null
    const float* residual;  // [N,Co,H,W] or null; may equal y
    float* y;
    int64_t N, Ci, H, W, Co, kh, kw;
};

// y = act(GroupNorm(x) * gamma + beta) over [N,C,HW], groups of consecutive channels
struct GroupNormParams {
    const float* x;
    float* y;               // may equal x
    const float* gamma;     // [C] or null (with beta)
    const float* beta;
    int64_t N, C, HW, groups;
    float eps;
    bool silu;
};

// y[n,c,2i+a,2j+b] = x[n,c,i,j]
struct Upsample2xParams {
    const float* x;
    float* y;
    int64_t N, C, H, W;     // input sizes
};

// y[b,s,r] = x[b,r,s] + residual[b,s,r]
struct TransposeParams {
    const float* x;
    const float* residual;  // or null; may equal y
    float* y;
    int64_t B, R, S;
};

struct VaeBackend {
    const char* name;
    dd_status (*conv2d)(const Conv2dParams&);
    dd_status (*group_norm)(const GroupNormParams&);
    dd_status (*upsample_nearest2x)(const Upsample2xParams&);
    dd_status (*transpose_last2)(const TransposeParams&);
};

const VaeBackend* cpu_vae_backend();
const VaeBackend* cuda_vae_backend();  // nullptr when the build has no CUDA

}  // namespace dd
