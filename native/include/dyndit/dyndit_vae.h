/*
 * dyndit VAE ops: the image-space kernels of the SD-VAE (AutoencoderKL) decoder, on top of the core C API
 * in dyndit.h (same conventions: a dd_status per call, dd_last_error() names the op, the tensor, expected
 * vs actual; every input is checked before anything is written). Activations are f32 NCHW.
 * The decoder's single-head attention uses dd_linear and dd_attention from dyndit.h.
 */
#ifndef DYNDIT_VAE_H
#define DYNDIT_VAE_H

#include "dyndit/dyndit.h"

#ifdef __cplusplus
extern "C" {
#endif

/* PyTorch Conv2d (cross-correlation), stride 1, dilation 1, zero padding (k-1)/2 on each side (odd kernels):
 *   y[n,o,i,j] = bias[o] + residual[n,o,i,j] + sum_{c,a,b} w[o,c,a,b] * x[n,c,i+a-(kh-1)/2, j+b-(kw-1)/2].
 * x [N,Ci,H,W], w [Co,Ci,kh,kw], y [N,Co,H,W], all contiguous; bias [Co] or NULL; residual [N,Co,H,W]
 * contiguous or NULL. residual may be y itself (y += conv + bias); otherwise y must not overlap any input.
 * CPU: im2col over tiles of output pixels into a per-thread buffer that only grows, then a oneDNN fp32 matmul
 * (single-threaded inside OpenMP tiles); 1x1 kernels read x directly. */
DD_API dd_status dd_conv2d(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const dd_tensor* residual,
                           dd_tensor* y);

/* GroupNorm over [N,C,H,W] with `groups` groups of consecutive channels, biased variance, then the
 * per-channel affine (gamma, beta [C], both given or both NULL), then SiLU (x * sigmoid(x)) when silu != 0:
 *   y = act((x - mean_g) / sqrt(var_g + eps) * gamma[c] + beta[c]).
 * x, y [N,C,H,W] contiguous; C must be a multiple of groups; in-place (y == x) allowed. */
DD_API dd_status dd_group_norm(const dd_tensor* x, const dd_tensor* gamma, const dd_tensor* beta, int groups,
                               float eps, int silu, dd_tensor* y);

/* Nearest-neighbour 2x upsampling (F.interpolate(scale_factor=2, mode="nearest")):
 * y[n,c,i,j] = x[n,c,i/2,j/2]. x [N,C,H,W], y [N,C,2H,2W], both contiguous, not overlapping. */
DD_API dd_status dd_upsample_nearest2x(const dd_tensor* x, dd_tensor* y);

/* y[b,s,r] = x[b,r,s] (+ residual[b,s,r]): the NCHW <-> token-major [N,HW,C] switch around attention.
 * x [B,R,S], y and residual [B,S,R], all contiguous; residual NULL, y itself (y += x^T), or disjoint from y;
 * y must not overlap x. */
DD_API dd_status dd_transpose_last2(const dd_tensor* x, const dd_tensor* residual, dd_tensor* y);

#ifdef __cplusplus
}
#endif
#endif /* DYNDIT_VAE_H */
