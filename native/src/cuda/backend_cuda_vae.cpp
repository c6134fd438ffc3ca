// The CUDA backend's VAE table: convolution (implicit GEMM on tensor cores), GroupNorm(+SiLU), upsample, transpose.
#include "../core/vae_backend.h"
#include "backend_cuda_parts.h"
#include "cuda_context.h"
#include "vae_conv2d.cuh"
#include "vae_group_norm.cuh"
#include "vae_transpose.cuh"
#include "vae_upsample.cuh"

namespace dd::cuda_impl {

dd_status conv2d(const Conv2dParams& p) {
    if (p.kh != p.kw)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel vae_conv2d: square kernels only (got %lldx%lld)",
                                               (long long)p.kh, (long long)p.kw));
    if (!fits_int(p.N) || !fits_int(p.Ci) || !fits_int(p.Co) || !fits_int(p.H) || !fits_int(p.W))
        return too_big("vae_conv2d", "a size", p.N);
    ck::Conv2dArgs a;
    a.x = p.x; a.w = p.w; a.bias = p.bias; a.residual = p.residual; a.y = p.y;
    a.N = (int)p.N; a.Ci = (int)p.Ci; a.Co = (int)p.Co; a.H = (int)p.H; a.W = (int)p.W; a.k = (int)p.kh;
    a.precision = precision() == DD_PRECISION_FP32 ? ck::ConvPrecision::kFp32
                                                                                   : ck::ConvPrecision::kTf32;
    return check_launch(ck::vae_conv2d(a, stream()), "vae_conv2d");
}

dd_status group_norm(const GroupNormParams& p) {
    if (!fits_int(p.N) || !fits_int(p.C) || !fits_int(p.groups)) return too_big("vae_group_norm", "N, C or groups", p.C);
    return check_launch(ck::vae_group_norm(p.x, p.gamma, p.beta, p.y, (int)p.N, (int)p.C, p.HW, (int)p.groups, p.eps,
                                           p.silu, stream()),
                        "vae_group_norm");
}

dd_status upsample_nearest2x(const Upsample2xParams& p) {
    if (!fits_int(p.H) || !fits_int(p.W)) return too_big("vae_upsample_nearest2x", "H or W", p.H);
    return check_launch(ck::vae_upsample_nearest2x(p.x, p.y, p.N * p.C, (int)p.H, (int)p.W, stream()),
                        "vae_upsample_nearest2x");
}

dd_status transpose_last2(const TransposeParams& p) {
    return check_launch(ck::vae_transpose_last2(p.x, p.residual, p.y, p.B, p.R, p.S, stream()), "vae_transpose_last2");
}

}  // namespace dd::cuda_impl
