// Inner loops of the VAE ops that gain from wide vectors (GroupNorm statistics, affine + SiLU),
// compiled once per instruction set (vae_kernels_impl.inc) and picked to match the core kernel set
// the dispatcher chose (so DYNDIT_ISA forces both). Threading lives in vae_ops.cpp.
#pragma once
#include <cstdint>

namespace dd::cpu {

struct VaeKernels {
    const char* isa;
    // sum of x[0..n), accumulated in float blocks and double across blocks (n can be 2^18 and more)
    double (*sum)(const float* x, int64_t n);
    // sum of (x - mean)^2, same accumulation
    double (*centered_square_sum)(const float* x, int64_t n, float mean);
    // y = (x - mean) * scale + shift; y may equal x
    void (*normalize)(const float* x, float* y, int64_t n, float mean, float scale, float shift);
    // y = silu((x - mean) * scale + shift); y may equal x
    void (*normalize_silu)(const float* x, float* y, int64_t n, float mean, float scale, float shift);
};

const VaeKernels& vae_kernels();  // the set matching kernels().isa

const VaeKernels& vae_kernels_sse2();
const VaeKernels& vae_kernels_avx2();
const VaeKernels& vae_kernels_avx512();

}  // namespace dd::cpu
