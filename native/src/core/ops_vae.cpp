// C entry points of the VAE ops (dyndit_vae.h): check every input up front with OpCheck, build the
// op's parameter struct, dispatch to the VAE backend of the tensors' device.
#include "dyndit/dyndit_vae.h"

#include <climits>

#include "device_plugin.h"
#include "op_check.h"
#include "vae_backend.h"

using dd::format;
using dd::OpCheck;
using dd::f32;
using dd::f32w;
using dd::rows_of;

namespace {

// The VAE table of the checked tensors' device.
const dd::VaeBackend& vae_backend(const OpCheck& c) {
    const dd::VaeBackend* b = nullptr;
    if (c.device_type() == DD_DEVICE_CPU) b = dd::cpu_vae_backend();
    else if (c.device_type() == DD_DEVICE_CUDA) b = dd::cuda_vae_backend();
    else if (c.device_type() == DD_DEVICE_CUDA_EMU) b = dd::cuda_emu_plugin().vae;
    if (!b) c.error(DD_ERR_UNSUPPORTED, format("no VAE backend for %s in this build", dd::device_name(c.device_type())));
    return *b;
}

// The same view of the same memory: the one kind of aliasing the in-place forms allow.
bool same_view(const dd_tensor& a, const dd_tensor& b) { return a.storage == b.storage && a.offset == b.offset; }

// `residual` is either `y` itself or must not touch it; it has y's shape either way.
void check_residual(OpCheck& c, const dd_tensor* r, const dd_tensor& y, const char* layout) {
    if (!r) return;
    c.contiguous(*r, "residual");
    if (r->ndim != y.ndim) c.error(DD_ERR_SHAPE, format("tensor 'residual' has shape %s, expected %s %s (as y)",
                                                        r->shape_str().c_str(), y.shape_str().c_str(), layout));
    for (int i = 0; i < y.ndim; ++i)
        if (r->shape[i] != y.shape[i])
            c.error(DD_ERR_SHAPE, format("tensor 'residual' has shape %s, expected %s %s (as y)", r->shape_str().c_str(),
                                         y.shape_str().c_str(), layout));
    if (!same_view(*r, y)) c.no_overlap(y, "y", r, "residual");
}

void check_blas_dim(const OpCheck& c, int64_t v, const char* what) {
    if (v > INT_MAX)
        c.error(DD_ERR_SHAPE, format("%s = %lld exceeds the BLAS limit of 2^31-1", what, (long long)v));
}

}  // namespace

extern "C" {

dd_status dd_conv2d(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const dd_tensor* residual,
                    dd_tensor* y) {
    return dd::guard("dd_conv2d", [&] {
        OpCheck c("dd_conv2d");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 4);
        const dd_tensor& Wt = c.tensor(w, "w", DD_F32, 4);
        const dd_tensor* B = c.optional(bias, "bias", DD_F32, 1);
        const dd_tensor* R = c.optional(residual, "residual", DD_F32, 4);
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 4);
        const int64_t N = X.shape[0], Ci = X.shape[1], H = X.shape[2], W = X.shape[3];
        const int64_t Co = Wt.shape[0], kh = Wt.shape[2], kw = Wt.shape[3];
        c.shape(Wt, "w", {-1, Ci, -1, -1}, "[Co,Ci,kh,kw] (Ci = channels of x)");
        if (kh % 2 == 0 || kw % 2 == 0)
            c.error(DD_ERR_SHAPE, format("tensor 'w' has shape %s: kernel %lldx%lld must be odd (padding (k-1)/2 keeps "
                                         "the size)", Wt.shape_str().c_str(), (long long)kh, (long long)kw));
        c.shape(Y, "y", {N, Co, H, W}, "[N,Co,H,W] (N,H,W of x, Co = rows of w)");
        if (B) c.shape(*B, "bias", {Co}, "[Co] (rows of w)"), c.contiguous(*B, "bias");
        for (auto [t, n] : {std::pair{&X, "x"}, {&Wt, "w"}, {&Y, "y"}}) c.contiguous(*t, n);
        check_residual(c, R, Y, "[N,Co,H,W]");
        c.no_overlap(Y, "y", &X, "x");
        c.no_overlap(Y, "y", &Wt, "w");
        c.no_overlap(Y, "y", B, "bias");
        check_blas_dim(c, Ci * kh * kw, "Ci*kh*kw");
        check_blas_dim(c, H * W, "H*W");
        check_blas_dim(c, Co, "Co");
        dd::Conv2dParams p{f32(&X), f32(&Wt), f32(B), f32(R), f32w(&Y), N, Ci, H, W, Co, kh, kw};
        return run(c, vae_backend(c).conv2d, p);
    });
}

dd_status dd_group_norm(const dd_tensor* x, const dd_tensor* gamma, const dd_tensor* beta, int groups, float eps,
                        int silu, dd_tensor* y) {
    return dd::guard("dd_group_norm", [&] {
        OpCheck c("dd_group_norm");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 4);
        const dd_tensor* G = c.optional(gamma, "gamma", DD_F32, 1);
        const dd_tensor* Bt = c.optional(beta, "beta", DD_F32, 1);
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 4);
        const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
        c.shape(Y, "y", {N, C, H, W}, "[N,C,H,W] (as x)");
        if ((G == nullptr) != (Bt == nullptr))
            c.error(DD_ERR_INVALID_ARGUMENT, "'gamma' and 'beta' must be given together (or both NULL: no affine)");
        if (G) {
            c.shape(*G, "gamma", {C}, "[C] (channels of x)");
            c.shape(*Bt, "beta", {C}, "[C] (channels of x)");
            c.contiguous(*G, "gamma");
            c.contiguous(*Bt, "beta");
        }
        if (groups <= 0 || C % groups != 0)
            c.error(DD_ERR_INVALID_ARGUMENT, format("groups = %d must be > 0 and divide the %lld channels of x %s", groups,
                                                    (long long)C, X.shape_str().c_str()));
        if (!(eps > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("eps must be > 0 (got %g)", (double)eps));
        c.contiguous(X, "x");
        c.contiguous(Y, "y");
        if (!same_view(X, Y)) c.no_overlap(Y, "y", &X, "x");
        c.no_overlap(Y, "y", G, "gamma");
        c.no_overlap(Y, "y", Bt, "beta");
        dd::GroupNormParams p{f32(&X), f32w(&Y), f32(G), f32(Bt), N, C, H * W, groups, eps, silu != 0};
        return run(c, vae_backend(c).group_norm, p);
    });
}

dd_status dd_upsample_nearest2x(const dd_tensor* x, dd_tensor* y) {
    return dd::guard("dd_upsample_nearest2x", [&] {
        OpCheck c("dd_upsample_nearest2x");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 4);
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 4);
        const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
        c.shape(Y, "y", {N, C, 2 * H, 2 * W}, "[N,C,2H,2W] (x is [N,C,H,W])");
        c.contiguous(X, "x");
        c.contiguous(Y, "y");
        c.no_overlap(Y, "y", &X, "x");
        dd::Upsample2xParams p{f32(&X), f32w(&Y), N, C, H, W};
        return run(c, vae_backend(c).upsample_nearest2x, p);
    });
}

dd_status dd_transpose_last2(const dd_tensor* x, const dd_tensor* residual, dd_tensor* y) {
    return dd::guard("dd_transpose_last2", [&] {
        OpCheck c("dd_transpose_last2");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 3);
        const dd_tensor* R = c.optional(residual, "residual", DD_F32, 3);
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 3);
        const int64_t B = X.shape[0], Rr = X.shape[1], S = X.shape[2];
        c.shape(Y, "y", {B, S, Rr}, "[B,S,R] (x is [B,R,S])");
        c.contiguous(X, "x");
        c.contiguous(Y, "y");
        check_residual(c, R, Y, "[B,S,R]");
        c.no_overlap(Y, "y", &X, "x");
        dd::TransposeParams p{f32(&X), f32(R), f32w(&Y), B, Rr, S};
        return run(c, vae_backend(c).transpose_last2, p);
    });
}

}  // extern "C"
