// CPU convolution (stride 1, zero padding (k-1)/2). 1x1 kernels are matmuls per sample on x read in place, in fp32
// (the VAE's 1x1 convolutions are its shortcut projections and post_quant_conv, ~1.5% of its work); larger kernels
// are oneDNN convolutions (vae_conv_dnnl.cpp), in bf16 when the calling thread asks for it.
#include <algorithm>

#include "../core/vae_backend.h"
#include "gemm.h"

namespace dd::cpu {

dd_status conv2d_dnnl(const Conv2dParams& p);  // vae_conv_dnnl.cpp

namespace {

// y starts as bias + residual (the matmuls then add onto it); returns whether it holds anything.
bool init_output(const Conv2dParams& p) {
    if (!p.bias && !p.residual) return false;
    const int64_t HW = p.H * p.W;
#pragma omp parallel for if (p.N * p.Co * HW >= (1 << 16))
    for (int64_t row = 0; row < p.N * p.Co; ++row) {
        float* y = p.y + row * HW;
        const float b = p.bias ? p.bias[row % p.Co] : 0.f;
        if (p.residual && p.residual != p.y) {
            const float* r = p.residual + row * HW;
            for (int64_t q = 0; q < HW; ++q) y[q] = r[q] + b;
        } else if (p.residual) {
            for (int64_t q = 0; q < HW; ++q) y[q] += b;
        } else {
            std::fill(y, y + HW, b);
        }
    }
    return true;
}

}  // namespace

dd_status conv2d(const Conv2dParams& p) {
    const int64_t HW = p.H * p.W;
    if (p.N == 0 || p.Co == 0 || HW == 0) return DD_OK;
    if (p.kh != 1 || p.kw != 1) return conv2d_dnnl(p);
    const bool accumulate = init_output(p);
    for (int64_t n = 0; n < p.N; ++n) {
        // y[n] [Co, HW] (+)= w [Co, Ci] x[n] [Ci, HW]; oneDNN threads each product
        const Gemm g{p.w, p.Ci, 1, p.x + n * p.Ci * HW, HW, 1, false, nullptr, p.y + n * p.Co * HW, HW, p.Co, HW, p.Ci,
                     accumulate};
        if (dd_status s = gemm("dd_conv2d", g)) return s;
    }
    return DD_OK;
}

}  // namespace dd::cpu
