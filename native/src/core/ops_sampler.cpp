// C entries of the sampler steps and the guidance combine: check every tensor up front, dispatch to the backend.
#include <cstring>

#include "op_check.h"

using dd::format;
using dd::OpCheck;
using dd::f32;
using dd::f32w;
using dd::rows_of;

namespace {

// Shared checks of both steps; fills everything but the coefficients.
dd::SamplerStepParams check_step(OpCheck& c, const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* noise,
                                 dd_tensor* pred_xstart, dd_tensor* next, const float* coefs, int64_t min_co) {
    const dd_tensor& X = c.tensor(x, "x", DD_F32, 4);
    const int64_t B = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
    const dd_tensor& O = c.tensor(model_out, "model_out", DD_F32, 4);
    c.shape(O, "model_out", {B, -1, H, W}, "[B,Co,H,W] (as x, Co >= C; 2C with learned sigma)");
    if (O.shape[1] < min_co)
        c.error(DD_ERR_SHAPE, format("tensor 'model_out' has %lld channels, this step needs at least %lld",
                                     (long long)O.shape[1], (long long)min_co));
    const dd_tensor* N = c.optional(noise, "noise", DD_F32, 4);
    const dd_tensor* Pr = c.optional(pred_xstart, "pred_xstart", DD_F32, 4);
    const dd_tensor& Nx = c.tensor(next, "next", DD_F32, 4);
    for (const dd_tensor* t : {&X, &O, N, Pr, &Nx})
        if (t) c.contiguous(*t, t == &X ? "x" : t == &O ? "model_out" : t == N ? "noise" : t == Pr ? "pred_xstart" : "next");
    if (N) c.shape(*N, "noise", {B, C, H, W}, "[B,C,H,W] (as x)");
    if (Pr) c.shape(*Pr, "pred_xstart", {B, C, H, W}, "[B,C,H,W] (as x)");
    c.shape(Nx, "next", {B, C, H, W}, "[B,C,H,W] (as x)");
    c.no_overlap(Nx, "next", &X, "x");
    c.no_overlap(Nx, "next", &O, "model_out");
    if (!coefs) c.error(DD_ERR_INVALID_ARGUMENT, "coefs is NULL");
    dd::SamplerStepParams p{};
    p.x = f32(&X); p.out = f32(&O); p.noise = f32(N); p.pred_xstart = f32w(Pr); p.next = f32w(&Nx);
    p.B = B; p.C = C; p.Co = O.shape[1]; p.P = H * W;
    return p;
}

}  // namespace

extern "C" {

dd_status dd_ddpm_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* noise, dd_tensor* pred_xstart,
                         dd_tensor* next, const float* coefs, int learned_range) {
    return dd::guard("dd_ddpm_update", [&] {
        OpCheck c("dd_ddpm_update");
        const int64_t C = x ? (x->ndim == 4 ? x->shape[1] : 0) : 0;
        dd::SamplerStepParams p = check_step(c, x, model_out, noise, pred_xstart, next, coefs, learned_range ? 2 * C : C);
        std::memcpy(p.k, coefs, 7 * sizeof(float));
        p.learned_range = learned_range != 0;
        return run(c, c.backend().ddpm_update, p);
    });
}

dd_status dd_ddim_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* noise, dd_tensor* pred_xstart,
                         dd_tensor* next, const float* coefs) {
    return dd::guard("dd_ddim_update", [&] {
        OpCheck c("dd_ddim_update");
        const int64_t C = x ? (x->ndim == 4 ? x->shape[1] : 0) : 0;
        dd::SamplerStepParams p = check_step(c, x, model_out, noise, pred_xstart, next, coefs, C);
        std::memcpy(p.k, coefs, 5 * sizeof(float));
        return run(c, c.backend().ddim_update, p);
    });
}

dd_status dd_dpm_update(const dd_tensor* x, const dd_tensor* model_out, const dd_tensor* m1, const dd_tensor* m2,
                        dd_tensor* x0, dd_tensor* next, const float* coefs, int order) {
    return dd::guard("dd_dpm_update", [&] {
        OpCheck c("dd_dpm_update");
        if (order < 1 || order > 3) c.error(DD_ERR_INVALID_ARGUMENT, format("order %d is not 1, 2 or 3", order));
        const int64_t C = x ? (x->ndim == 4 ? x->shape[1] : 0) : 0;
        dd::SamplerStepParams s = check_step(c, x, model_out, nullptr, x0, next, coefs, C);
        if (!x0) c.error(DD_ERR_INVALID_ARGUMENT, "tensor 'x0' is NULL (the step's data prediction is the next steps' history)");
        const dd_tensor* M1 = order >= 2 ? &c.tensor(m1, "m1", DD_F32, 4) : nullptr;
        const dd_tensor* M2 = order >= 3 ? &c.tensor(m2, "m2", DD_F32, 4) : nullptr;
        const dd_tensor& X = *x;
        for (const dd_tensor* m : {M1, M2}) {
            if (!m) continue;
            const char* name = m == M1 ? "m1" : "m2";
            c.contiguous(*m, name);
            c.shape(*m, name, {X.shape[0], X.shape[1], X.shape[2], X.shape[3]}, "[B,C,H,W] (as x)");
            c.no_overlap(*next, "next", m, name);
            c.no_overlap(*x0, "x0", m, name);
        }
        c.no_overlap(*x0, "x0", &X, "x");
        c.no_overlap(*x0, "x0", model_out, "model_out");
        c.no_overlap(*x0, "x0", next, "next");
        dd::DpmStepParams p{};
        p.x = s.x; p.out = s.out; p.m1 = f32(M1); p.m2 = f32(M2); p.x0 = s.pred_xstart; p.next = s.next;
        p.B = s.B; p.C = s.C; p.Co = s.Co; p.P = s.P; p.order = order;
        std::memcpy(p.k, coefs, (order == 1 ? 4 : order == 2 ? 6 : 10) * sizeof(float));
        return run(c, c.backend().dpm_update, p);
    });
}

dd_status dd_cfg_combine(dd_tensor* model_out, int64_t guided, float scale) {
    return dd::guard("dd_cfg_combine", [&] {
        OpCheck c("dd_cfg_combine");
        const dd_tensor& O = c.tensor(model_out, "model_out", DD_F32, 4);
        c.contiguous(O, "model_out");
        if (O.shape[0] % 2 != 0)
            c.error(DD_ERR_SHAPE, format("tensor 'model_out' has batch %lld; guidance needs [cond; uncond], an even batch",
                                         (long long)O.shape[0]));
        if (guided < 0 || guided > O.shape[1])
            c.error(DD_ERR_INVALID_ARGUMENT, format("guided = %lld outside [0, %lld] (channels of model_out)",
                                                    (long long)guided, (long long)O.shape[1]));
        dd::CfgCombineParams p{f32w(&O), O.shape[0] / 2, O.shape[1], O.shape[2] * O.shape[3], guided, scale};
        return run(c, c.backend().cfg_combine, p);
    });
}

dd_status dd_weak_guidance(dd_tensor* cond, const dd_tensor* guide, int64_t guided, float scale) {
    return dd::guard("dd_weak_guidance", [&] {
        OpCheck c("dd_weak_guidance");
        const dd_tensor& Cn = c.tensor(cond, "cond", DD_F32, 4);
        const dd_tensor& G = c.tensor(guide, "guide", DD_F32, 4);
        c.shape(G, "guide", {Cn.shape[0], Cn.shape[1], Cn.shape[2], Cn.shape[3]}, "[n,Co,H,W] (as cond)");
        c.contiguous(Cn, "cond");
        c.contiguous(G, "guide");
        c.no_overlap(Cn, "cond", &G, "guide");
        if (guided < 0 || guided > Cn.shape[1])
            c.error(DD_ERR_INVALID_ARGUMENT, format("guided = %lld outside [0, %lld] (channels of cond)",
                                                    (long long)guided, (long long)Cn.shape[1]));
        dd::WeakGuidanceParams p{f32w(&Cn), f32(&G), Cn.shape[0], Cn.shape[1], Cn.shape[2] * Cn.shape[3], guided, scale};
        return run(c, c.backend().weak_guidance, p);
    });
}

}  // extern "C"
