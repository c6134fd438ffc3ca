// dd_linear_gelu and dd_linear_gated_residual: a linear with the op that follows it in a DiT block, run by the
// backend's linear_epilogue (CUDA: in the GEMM's epilogue; the CPU: the product, then its own GELU / gated-add
// kernels, bit for bit the separate ops).
#include <utility>

#include "linear_check.h"

using dd::format;
using dd::OpCheck;
using dd::f32;
using dd::f32w;
using dd::rows_of;

namespace dd {
LinearParams check_linear(OpCheck& c, const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const dd_tensor* y,
                          const char* y_name, int x_rank, bool y_bf16_allowed) {
    const dd_tensor& X = c.tensor(x, "x", OpCheck::kF32OrBf16, x_rank);
    const dd_tensor& W = c.tensor(w, "w", DD_F32, 2);
    const dd_tensor* B = c.optional(bias, "bias", DD_F32, 1);
    const dd_tensor& Y = c.tensor(y, y_name, y_bf16_allowed ? OpCheck::kF32OrBf16 : DD_F32, X.ndim);
    for (const auto& [t, name] : {std::pair<const dd_tensor*, const char*>{&X, "x"}, {&Y, y_name}})
        if (t->dtype == DD_BF16 && !c.backend().linear_bf16_io)
            c.error(DD_ERR_UNSUPPORTED, format("tensor '%s' is bf16: the %s backend's linears take f32 activations",
                                               name, c.backend().name));
    if (X.ndim < 1) c.error(DD_ERR_SHAPE, "tensor 'x' must have rank >= 1 ([..., K])");
    const int64_t K = X.shape[X.ndim - 1], N = W.shape[0];
    c.shape(W, "w", {-1, K}, "[N,K] (K = last dim of x)");
    if (B) c.shape(*B, "bias", {N}, "[N] (N = rows of w)"), c.last_dim_contiguous(*B, "bias");
    for (int i = 0; i < X.ndim - 1; ++i)
        if (Y.shape[i] != X.shape[i])
            c.error(DD_ERR_SHAPE, format("tensor '%s' has shape %s, expected the leading dims of x %s and last dim %lld",
                                         y_name, Y.shape_str().c_str(), X.shape_str().c_str(), (long long)N));
    if (Y.shape[Y.ndim - 1] != N)
        c.error(DD_ERR_SHAPE, format("tensor '%s' has shape %s, last dim expected %lld (rows of w)", y_name,
                                     Y.shape_str().c_str(), (long long)N));
    c.no_overlap(Y, y_name, &X, "x");
    c.no_overlap(Y, y_name, &W, "w");
    c.no_overlap(Y, y_name, B, "bias");
    if (rows_of(X) > INT32_MAX || N > INT32_MAX)
        c.error(DD_ERR_SHAPE, format("%lld rows x %lld outputs exceed the BLAS limit of 2^31-1",
                                     (long long)rows_of(X), (long long)N));
    LinearParams p{};
    if (X.dtype == DD_BF16) p.x_bf16 = static_cast<const uint16_t*>(X.data()); else p.x = f32(&X);
    p.x_row_stride = c.uniform_row_stride(X, "x");
    p.w = f32(&W); p.w_row_stride = c.uniform_row_stride(W, "w");
    p.bias = f32(B);
    if (Y.dtype == DD_BF16) p.y_bf16 = static_cast<uint16_t*>(Y.data()); else p.y = f32w(&Y);
    p.y_row_stride = c.uniform_row_stride(Y, y_name);
    p.M = rows_of(X); p.N = N; p.K = K;
    return p;
}

}  // namespace dd

extern "C" {

dd_status dd_linear_gelu(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y) {
    return dd::guard("dd_linear_gelu", [&] {
        OpCheck c("dd_linear_gelu");
        const dd::LinearParams lin = dd::check_linear(c, x, w, bias, y, "y", -1, true);
        return dd::run(c, c.backend().linear_epilogue,
                       dd::LinearEpilogueParams{lin, dd::LinearEpilogue::kGeluTanh, nullptr, 0, 1});
    });
}

dd_status dd_linear_gated_residual(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                   const dd_tensor* gate, dd_tensor* h) {
    return dd::guard("dd_linear_gated_residual", [&] {
        OpCheck c("dd_linear_gated_residual");
        const dd::LinearParams lin = dd::check_linear(c, x, w, bias, h, "h", 3, false);
        const dd_tensor& H = *h;
        const int64_t N = H.shape[0], T = H.shape[1], D = H.shape[2];
        const dd_tensor* G = c.optional(gate, "gate", DD_F32, 2);
        if (G) c.shape(*G, "gate", {N, D}, "[N,D] (D = rows of w)"), c.last_dim_contiguous(*G, "gate");
        c.no_overlap(H, "h", G, "gate");
        return dd::run(c, c.backend().linear_epilogue,
                       dd::LinearEpilogueParams{lin, dd::LinearEpilogue::kGatedResidual, f32(G), G ? G->strides[0] : 0, T});
    });
}

}  // extern "C"
