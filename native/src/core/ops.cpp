// The C API entry of every op: check all inputs, build the op's parameter struct, dispatch to the
// backend of the tensors' device.
#include <cstring>

#include "attention_check.h"
#include "linear_check.h"
#include "op_check.h"

using dd::Error;
using dd::format;
using dd::OpCheck;
using dd::f32;
using dd::f32w;
using dd::rows_of;

namespace {

// Shared checks of the row-index ops: `table` [R,D] indexed by `index` [K] (i32, values in [0,R)) and a
// dense side `rows` [K,D]. Returns D.
int64_t check_indexed_rows(OpCheck& c, const dd_tensor& table, const char* table_name, const dd_tensor& index,
                           const dd_tensor& rows, const char* rows_name) {
    const int64_t K = index.shape[0], W = table.shape[1];
    c.shape(rows, rows_name, {K, W}, "[K,D] (K = length of index, D = columns of the indexed tensor)");
    c.contiguous(index, "index");
    c.last_dim_contiguous(table, table_name);
    c.last_dim_contiguous(rows, rows_name);
    c.indices_in_range(index, "index", table.shape[0], "rows of the indexed tensor");
    return W;
}

// Checks (start, length) blocks against `limit` and returns the sum of lengths.
int64_t check_blocks(const OpCheck& c, const int64_t* blocks, int nblocks, int64_t limit, const char* what) {
    if (nblocks < 0 || (nblocks > 0 && !blocks))
        c.error(DD_ERR_INVALID_ARGUMENT, format("%d blocks given with %s pointer", nblocks, blocks ? "a" : "a NULL"));
    int64_t total = 0;
    for (int b = 0; b < nblocks; ++b) {
        const int64_t start = blocks[2 * b], len = blocks[2 * b + 1];
        if (start < 0 || len < 0 || start > limit - len)
            c.error(DD_ERR_INVALID_ARGUMENT, format("block %d = (start %lld, length %lld) outside the %lld %s of 'w'", b,
                                                    (long long)start, (long long)len, (long long)limit, what));
        total += len;
    }
    return total;
}

// The width-sliced linears and their fused forms (out-blocks + GELU, in-blocks + gated residual).
enum class Sliced { kOut, kIn, kOutGelu, kInGated };

// Shared checks of the width-sliced linears: out-blocks index rows of w, in-blocks its columns. kInGated's y is the
// residual h [N,T,rows of w] and gate [N, rows of w] (or null).
dd_status block_linear(const char* op, Sliced kind, const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                       const int64_t* blocks, int nblocks, dd_tensor* y, const dd_tensor* gate = nullptr) {
    return dd::guard(op, [&] {
        OpCheck c(op);
        const bool out_side = kind == Sliced::kOut || kind == Sliced::kOutGelu, gated = kind == Sliced::kInGated;
        const char* yn = gated ? "h" : "y";
        const dd_tensor& X = c.tensor(x, "x", OpCheck::kF32OrBf16, gated ? 3 : -1);
        const dd_tensor& W = c.tensor(w, "w", DD_F32, 2);
        const dd_tensor* B = c.optional(bias, "bias", DD_F32, 1);
        const dd_tensor& Y = c.tensor(y, yn, out_side ? OpCheck::kF32OrBf16 : DD_F32, X.ndim);
        for (auto [t, n] : {std::pair{&X, "x"}, {&Y, yn}})
            if (t->dtype == DD_BF16 && !c.backend().sliced_bf16_io)
                c.error(DD_ERR_UNSUPPORTED, format("tensor '%s' is bf16: the %s backend's width-sliced linears take f32 "
                                                   "activations", n, c.backend().name));
        if (X.ndim < 1) c.error(DD_ERR_SHAPE, "tensor 'x' must have rank >= 1");
        const int64_t N = W.shape[0], K = W.shape[1];
        const int64_t total = check_blocks(c, blocks, nblocks, out_side ? N : K, out_side ? "rows" : "columns");
        const int64_t xw = out_side ? K : total, yw = out_side ? total : N;
        if (X.shape[X.ndim - 1] != xw)
            c.error(DD_ERR_SHAPE, format("tensor 'x' has shape %s, last dim expected %lld (%s)", X.shape_str().c_str(),
                                         (long long)xw, out_side ? "columns of w" : "sum of block lengths"));
        for (int i = 0; i < X.ndim - 1; ++i)
            if (Y.shape[i] != X.shape[i])
                c.error(DD_ERR_SHAPE, format("tensor '%s' has shape %s, leading dims must equal x's %s", yn,
                                             Y.shape_str().c_str(), X.shape_str().c_str()));
        if (Y.shape[Y.ndim - 1] != yw)
            c.error(DD_ERR_SHAPE, format("tensor '%s' has shape %s, last dim expected %lld (%s)", yn,
                                         Y.shape_str().c_str(), (long long)yw,
                                         out_side ? "sum of block lengths" : "rows of w"));
        if (B) c.shape(*B, "bias", {N}, "[N] (rows of w)"), c.last_dim_contiguous(*B, "bias");
        c.no_overlap(Y, yn, &X, "x");
        c.no_overlap(Y, yn, &W, "w");
        c.no_overlap(Y, yn, B, "bias");
        dd::BlockLinearParams p{};
        if (gated) {
            const dd_tensor* G = c.optional(gate, "gate", DD_F32, 2);
            if (G) c.shape(*G, "gate", {Y.shape[0], N}, "[N,D] (D = rows of w)"), c.last_dim_contiguous(*G, "gate");
            c.no_overlap(Y, yn, G, "gate");
            p.gate = f32(G), p.gate_rs = G ? G->strides[0] : 0, p.rows_per_sample = Y.shape[1];
        }
        if (X.dtype == DD_BF16) p.x_bf16 = static_cast<const uint16_t*>(X.data()); else p.x = f32(&X);
        p.x_row_stride = c.uniform_row_stride(X, "x");
        p.w = f32(&W); p.w_row_stride = c.uniform_row_stride(W, "w");
        p.bias = f32(B);
        if (Y.dtype == DD_BF16) p.y_bf16 = static_cast<uint16_t*>(Y.data()); else p.y = f32w(&Y);
        p.y_row_stride = c.uniform_row_stride(Y, yn);
        p.M = rows_of(X); p.blocks = blocks; p.nblocks = nblocks; p.N = N; p.K = K;
        const dd::Backend& be = c.backend();
        auto fn = kind == Sliced::kOut ? be.linear_out_blocks : kind == Sliced::kIn ? be.linear_in_blocks
                : kind == Sliced::kOutGelu ? be.linear_out_blocks_gelu : be.linear_in_blocks_gated_residual;
        return run(c, fn, p);
    });
}

}  // namespace

extern "C" {

dd_status dd_linear(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y) {
    return dd::guard("dd_linear", [&] {
        OpCheck c("dd_linear");
        const dd::LinearParams p = dd::check_linear(c, x, w, bias, y, "y", -1, true);
        return run(c, c.backend().linear, p);
    });
}

dd_status dd_linear_row_invariant(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, dd_tensor* y) {
    return dd::guard("dd_linear_row_invariant", [&] {
        OpCheck c("dd_linear_row_invariant");
        const dd::LinearParams p = dd::check_linear(c, x, w, bias, y, "y", -1, false);
        if (p.x_bf16) c.error(DD_ERR_DTYPE, "tensor 'x' is bf16, expected f32");
        return run(c, c.backend().linear_row_invariant, p);
    });
}

dd_status dd_layernorm_modulate(const dd_tensor* x, const dd_tensor* shift, const dd_tensor* scale, float eps,
                                dd_tensor* y) {
    return dd::guard("dd_layernorm_modulate", [&] {
        OpCheck c("dd_layernorm_modulate");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 3);
        const int64_t N = X.shape[0], T = X.shape[1], D = X.shape[2];
        const dd_tensor& Y = c.tensor(y, "y", OpCheck::kF32OrBf16, 3);
        c.shape(Y, "y", {N, T, D}, "[N,T,D] (as x)");
        if (Y.dtype == DD_BF16) {
            if (!c.backend().layernorm_bf16_out)
                c.error(DD_ERR_UNSUPPORTED, format("tensor 'y' is bf16: the %s backend writes f32 only", c.backend().name));
            c.no_overlap(Y, "y", &X, "x");  // in place only in f32
        }
        const dd_tensor* S = c.optional(shift, "shift", DD_F32, 2);
        const dd_tensor* G = c.optional(scale, "scale", DD_F32, 2);
        if (S) c.shape(*S, "shift", {N, D}, "[N,D]"), c.last_dim_contiguous(*S, "shift");
        if (G) c.shape(*G, "scale", {N, D}, "[N,D]"), c.last_dim_contiguous(*G, "scale");
        c.last_dim_contiguous(X, "x");
        c.last_dim_contiguous(Y, "y");
        if (!(eps > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("eps must be > 0 (got %g)", (double)eps));
        dd::LayerNormModulateParams p{};
        p.x = f32(&X); p.x_sn = X.strides[0]; p.x_st = X.strides[1];
        if (Y.dtype == DD_BF16) p.y_bf16 = static_cast<uint16_t*>(Y.data()); else p.y = f32w(&Y);
        p.y_sn = Y.strides[0]; p.y_st = Y.strides[1];
        p.shift = f32(S); p.shift_sn = S ? S->strides[0] : 0;
        p.scale = f32(G); p.scale_sn = G ? G->strides[0] : 0;
        p.N = N; p.T = T; p.D = D; p.eps = eps;
        return run(c, c.backend().layernorm_modulate, p);
    });
}

// bf16_allowed: x and y may both be bf16 on backends with sliced_bf16_io.
static dd_status unary(const char* op, const dd_tensor* x, dd_tensor* y,
                       dd_status (*dd::Backend::*fn)(const dd::UnaryParams&), bool bf16_allowed = false) {
    return dd::guard(op, [&] {
        OpCheck c(op);
        const int dtype = bf16_allowed ? OpCheck::kF32OrBf16 : DD_F32;
        const dd_tensor& X = c.tensor(x, "x", dtype, -1);
        const dd_tensor& Y = c.tensor(y, "y", dtype, X.ndim);
        if (Y.dtype != X.dtype)
            c.error(DD_ERR_DTYPE, format("tensor 'y' has dtype %s, expected %s as x", dd::dtype_name(Y.dtype),
                                         dd::dtype_name(X.dtype)));
        if (X.dtype == DD_BF16 && !c.backend().sliced_bf16_io)
            c.error(DD_ERR_UNSUPPORTED, format("tensor 'x' is bf16: the %s backend's %s takes f32", c.backend().name, op));
        if (std::memcmp(X.shape, Y.shape, sizeof(int64_t) * X.ndim) != 0)
            c.error(DD_ERR_SHAPE, format("tensor 'y' has shape %s, expected %s (as x)", Y.shape_str().c_str(),
                                         X.shape_str().c_str()));
        c.contiguous(X, "x");
        c.contiguous(Y, "y");
        dd::UnaryParams p{};
        p.n = X.numel();
        if (X.dtype == DD_BF16)
            p.x16 = static_cast<const uint16_t*>(X.data()), p.y16 = static_cast<uint16_t*>(Y.data());
        else
            p.x = f32(&X), p.y = f32w(&Y);
        return run(c, c.backend().*fn, p);
    });
}

dd_status dd_gelu_tanh(const dd_tensor* x, dd_tensor* y) {
    return unary("dd_gelu_tanh", x, y, &dd::Backend::gelu_tanh, true);
}
dd_status dd_silu(const dd_tensor* x, dd_tensor* y) { return unary("dd_silu", x, y, &dd::Backend::silu); }

dd_status dd_gated_residual_add(dd_tensor* h, const dd_tensor* gate, const dd_tensor* x) {
    return dd::guard("dd_gated_residual_add", [&] {
        OpCheck c("dd_gated_residual_add");
        const dd_tensor& H = c.tensor(h, "h", DD_F32, 3);
        const int64_t N = H.shape[0], T = H.shape[1], D = H.shape[2];
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 3);
        c.shape(X, "x", {N, T, D}, "[N,T,D] (as h)");
        const dd_tensor* G = c.optional(gate, "gate", DD_F32, 2);
        if (G) c.shape(*G, "gate", {N, D}, "[N,D]"), c.last_dim_contiguous(*G, "gate");
        c.last_dim_contiguous(H, "h");
        c.last_dim_contiguous(X, "x");
        dd::GatedResidualParams p{};
        p.h = f32w(&H); p.h_sn = H.strides[0]; p.h_st = H.strides[1];
        p.x = f32(&X); p.x_sn = X.strides[0]; p.x_st = X.strides[1];
        p.gate = f32(G); p.gate_sn = G ? G->strides[0] : 0;
        p.N = N; p.T = T; p.D = D;
        return run(c, c.backend().gated_residual_add, p);
    });
}

}  // extern "C"

namespace dd {
namespace {
// q, k, v and out all f32 or all bf16, bf16 only where the backend's attention takes it; true for bf16.
bool attention_bf16(OpCheck& c, const dd_tensor& Q, const dd_tensor& K, const dd_tensor& V, const dd_tensor& O) {
    for (auto [t, n] : {std::pair{&K, "k"}, {&V, "v"}, {&O, "out"}})
        if (t->dtype != Q.dtype)
            c.error(DD_ERR_DTYPE, format("tensor '%s' has dtype %s, expected %s as q (q, k, v and out are all f32 or "
                                         "all bf16)", n, dd::dtype_name(t->dtype), dd::dtype_name(Q.dtype)));
    if (Q.dtype == DD_BF16 && !c.backend().attention_bf16_io)
        c.error(DD_ERR_UNSUPPORTED, format("tensor 'q' is bf16: the %s backend's attention takes f32 operands",
                                           c.backend().name));
    return Q.dtype == DD_BF16;
}
const uint16_t* bf16(const dd_tensor& t) { return static_cast<const uint16_t*>(t.data()); }
uint16_t* bf16w(const dd_tensor& t) { return static_cast<uint16_t*>(t.data()); }
}  // namespace

AttentionParams check_attention(OpCheck& c, const dd_tensor* q, const dd_tensor* k, const dd_tensor* v,
                                        float scale, const dd_tensor* out, bool bf16_allowed) {
    const int dtype = bf16_allowed ? OpCheck::kF32OrBf16 : DD_F32;
    const dd_tensor& Q = c.tensor(q, "q", dtype, 4);
    const int64_t N = Q.shape[0], T = Q.shape[1], H = Q.shape[2], Dh = Q.shape[3];
    const dd_tensor& K = c.tensor(k, "k", dtype, 4);
    const int64_t Tk = K.shape[1];
    const dd_tensor& V = c.tensor(v, "v", dtype, 4);
    const dd_tensor& O = c.tensor(out, "out", dtype, 4);
    const bool b16 = attention_bf16(c, Q, K, V, O);
    c.shape(K, "k", {N, Tk, H, Dh}, "[N,Tk,H,Dh] (N, H, Dh as q)");
    c.shape(V, "v", {N, Tk, H, Dh}, "[N,Tk,H,Dh] (as k)");
    c.shape(O, "out", {N, T, H, Dh}, "[N,Tq,H,Dh] (as q)");
    for (auto [t, n] : {std::pair{&Q, "q"}, {&K, "k"}, {&V, "v"}, {&O, "out"}}) c.last_dim_contiguous(*t, n);
    if (!(scale > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("scale must be > 0 (got %g)", (double)scale));
    dd::AttentionParams p{};
    p.q_sn = Q.strides[0]; p.q_st = Q.strides[1]; p.q_sh = Q.strides[2];
    p.k_sn = K.strides[0]; p.k_st = K.strides[1]; p.k_sh = K.strides[2];
    p.v_sn = V.strides[0]; p.v_st = V.strides[1]; p.v_sh = V.strides[2];
    p.o_sn = O.strides[0]; p.o_st = O.strides[1]; p.o_sh = O.strides[2];
    if (b16) {
        p.q16 = bf16(Q); p.k16 = bf16(K); p.v16 = bf16(V); p.o16 = bf16w(O);
    } else {
        p.q = f32(&Q); p.k = f32(&K); p.v = f32(&V); p.o = f32w(&O);
    }
    p.N = N; p.T = T; p.Tk = Tk; p.H = H; p.Dh = Dh; p.scale = scale;
    return p;
}

AttentionKeyMassParams check_attention_key_mass(OpCheck& c, const dd_tensor* q, const dd_tensor* k,
                                                        float scale, const dd_tensor* out, const char* out_name) {
    const dd_tensor& Q = c.tensor(q, "q", DD_F32, 4);
    const int64_t N = Q.shape[0], T = Q.shape[1], H = Q.shape[2], Dh = Q.shape[3];
    const dd_tensor& K = c.tensor(k, "k", DD_F32, 4);
    const dd_tensor& O = c.tensor(out, out_name, DD_F32, 2);
    c.shape(K, "k", {N, T, H, Dh}, "[N,T,H,Dh] (as q)");
    c.shape(O, out_name, {N, T}, "[N,T] (of q)");
    c.last_dim_contiguous(Q, "q");
    c.last_dim_contiguous(K, "k");
    c.contiguous(O, out_name);
    c.no_overlap(O, out_name, &Q, "q");
    c.no_overlap(O, out_name, &K, "k");
    if (!(scale > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("scale must be > 0 (got %g)", (double)scale));
    dd::AttentionKeyMassParams p{};
    p.q = f32(&Q); p.q_sn = Q.strides[0]; p.q_st = Q.strides[1]; p.q_sh = Q.strides[2];
    p.k = f32(&K); p.k_sn = K.strides[0]; p.k_st = K.strides[1]; p.k_sh = K.strides[2];
    p.out = f32w(&O);
    p.N = N; p.T = T; p.H = H; p.Dh = Dh; p.scale = scale;
    return p;
}
}  // namespace dd

extern "C" {

dd_status dd_attention(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, float scale, dd_tensor* out) {
    return dd::guard("dd_attention", [&] {
        OpCheck c("dd_attention");
        const dd::AttentionParams p = dd::check_attention(c, q, k, v, scale, out, true);
        return run(c, c.backend().attention, p);
    });
}

dd_status dd_attention_key_mass(const dd_tensor* q, const dd_tensor* k, float scale, dd_tensor* out) {
    return dd::guard("dd_attention_key_mass", [&] {
        OpCheck c("dd_attention_key_mass");
        const dd::AttentionKeyMassParams p = dd::check_attention_key_mass(c, q, k, scale, out, "out");
        return run(c, c.backend().attention_key_mass, p);
    });
}

dd_status dd_attention_varlen(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, const dd_tensor* cu_seqlens,
                              float scale, dd_tensor* out) {
    return dd::guard("dd_attention_varlen", [&] {
        OpCheck c("dd_attention_varlen");
        const dd_tensor& Q = c.tensor(q, "q", OpCheck::kF32OrBf16, 3);
        const int64_t R = Q.shape[0], H = Q.shape[1], Dh = Q.shape[2];
        const dd_tensor& K = c.tensor(k, "k", OpCheck::kF32OrBf16, 3);
        const dd_tensor& V = c.tensor(v, "v", OpCheck::kF32OrBf16, 3);
        const dd_tensor& O = c.tensor(out, "out", OpCheck::kF32OrBf16, 3);
        const bool b16 = dd::attention_bf16(c, Q, K, V, O);
        c.shape(K, "k", {R, H, Dh}, "[R,H,Dh] (as q)");
        c.shape(V, "v", {R, H, Dh}, "[R,H,Dh] (as q)");
        c.shape(O, "out", {R, H, Dh}, "[R,H,Dh] (as q)");
        for (auto [t, n] : {std::pair{&Q, "q"}, {&K, "k"}, {&V, "v"}, {&O, "out"}}) c.last_dim_contiguous(*t, n);
        if (!cu_seqlens) c.error(DD_ERR_INVALID_ARGUMENT, "tensor 'cu_seqlens' is NULL");
        const dd_tensor& C = *cu_seqlens;
        if (C.dtype != DD_I32 || C.ndim != 1 || C.shape[0] < 1 || C.storage->device_type != DD_DEVICE_CPU)
            c.error(DD_ERR_INVALID_ARGUMENT, format("tensor 'cu_seqlens' must be a host i32 vector [B+1], got %s %s on %s",
                                                    dd::dtype_name(C.dtype), C.shape_str().c_str(),
                                                    dd::device_name(C.storage->device_type)));
        c.contiguous(C, "cu_seqlens");
        const int32_t* cu = static_cast<const int32_t*>(C.data());
        const int64_t B = C.shape[0] - 1;
        if (cu[0] != 0 || cu[B] != R)
            c.error(DD_ERR_INVALID_ARGUMENT, format("cu_seqlens must run from 0 to R = %lld (got %d .. %d)", (long long)R,
                                                    cu[0], cu[B]));
        for (int64_t b = 0; b < B; ++b)
            if (cu[b + 1] < cu[b])
                c.error(DD_ERR_INVALID_ARGUMENT, format("cu_seqlens decreases at %lld (%d > %d)", (long long)b, cu[b],
                                                        cu[b + 1]));
        if (!(scale > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("scale must be > 0 (got %g)", (double)scale));
        c.no_overlap(O, "out", &Q, "q");
        dd::AttentionVarlenParams p{b16 ? nullptr : f32(&Q), Q.strides[0], Q.strides[1],
                                    b16 ? nullptr : f32(&K), K.strides[0], K.strides[1],
                                    b16 ? nullptr : f32(&V), V.strides[0], V.strides[1],
                                    b16 ? nullptr : f32w(&O), O.strides[0], O.strides[1], cu, B, R, H, Dh, scale};
        if (b16) p.q16 = dd::bf16(Q), p.k16 = dd::bf16(K), p.v16 = dd::bf16(V), p.o16 = dd::bf16w(O);
        return run(c, c.backend().attention_varlen, p);
    });
}

dd_status dd_gather_rows(const dd_tensor* src, const dd_tensor* index, dd_tensor* dst) {
    return dd::guard("dd_gather_rows", [&] {
        OpCheck c("dd_gather_rows");
        const dd_tensor& S = c.tensor(src, "src", DD_F32, 2);
        const dd_tensor& I = c.tensor(index, "index", DD_I32, 1);
        const dd_tensor& D = c.tensor(dst, "dst", DD_F32, 2);
        const int64_t K = I.shape[0], W = check_indexed_rows(c, S, "src", I, D, "dst");
        dd::GatherRowsParams p{f32(&S), S.strides[0], static_cast<const int32_t*>(I.data()), f32w(&D), D.strides[0], K, W};
        return run(c, c.backend().gather_rows, p);
    });
}

dd_status dd_scatter_add_rows(dd_tensor* dst, const dd_tensor* index, const dd_tensor* src, const dd_tensor* gate,
                              const dd_tensor* row_sample) {
    return dd::guard("dd_scatter_add_rows", [&] {
        OpCheck c("dd_scatter_add_rows");
        const dd_tensor& D = c.tensor(dst, "dst", DD_F32, 2);
        const dd_tensor& I = c.tensor(index, "index", DD_I32, 1);
        const dd_tensor& S = c.tensor(src, "src", DD_F32, 2);
        const int64_t K = I.shape[0], W = check_indexed_rows(c, D, "dst", I, S, "src");
        const dd_tensor* G = c.optional(gate, "gate", DD_F32, 2);
        const dd_tensor* R = c.optional(row_sample, "row_sample", DD_I32, 1);
        if ((G == nullptr) != (R == nullptr))
            c.error(DD_ERR_INVALID_ARGUMENT, "'gate' and 'row_sample' must be given together");
        if (G) {
            c.shape(*G, "gate", {-1, W}, "[S,D] (D = columns of dst)");
            c.last_dim_contiguous(*G, "gate");
            c.shape(*R, "row_sample", {K}, "[K] (K = length of index)");
            c.contiguous(*R, "row_sample");
            c.indices_in_range(*R, "row_sample", G->shape[0], "rows of gate");
        }
        dd::ScatterAddRowsParams p{f32w(&D), D.strides[0], static_cast<const int32_t*>(I.data()), f32(&S), S.strides[0],
                                   f32(G), G ? G->strides[0] : 0, R ? static_cast<const int32_t*>(R->data()) : nullptr,
                                   K, W};
        return run(c, c.backend().scatter_add_rows, p);
    });
}

// Shared checks of patchify (image -> tokens) and unpatchify (tokens -> image).
static dd_status patch_op(const char* op, const dd_tensor* image, const char* image_name, const dd_tensor* tokens,
                          const char* tokens_name, int p, bool to_tokens) {
    return dd::guard(op, [&] {
        OpCheck c(op);
        const dd_tensor& X = c.tensor(image, image_name, DD_F32, 4);
        const dd_tensor& T = c.tensor(tokens, tokens_name, DD_F32, 3);
        const int64_t N = X.shape[0], C = X.shape[1], H = X.shape[2], W = X.shape[3];
        if (p <= 0 || H % p || W % p)
            c.error(DD_ERR_SHAPE, format("%s %s: height and width must be multiples of the patch size %d", image_name,
                                         X.shape_str().c_str(), p));
        c.contiguous(X, image_name);
        c.shape(T, tokens_name, {N, (H / p) * (W / p), C * p * p}, "[N, (H/p)*(W/p), C*p*p]");
        c.last_dim_contiguous(T, tokens_name);
        if (T.strides[0] != T.shape[1] * T.strides[1] && T.shape[0] > 1)
            c.error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' rows must be evenly strided across the batch", tokens_name));
        dd::PatchParams pp{to_tokens ? f32(&X) : f32(&T), to_tokens ? f32w(&T) : f32w(&X), T.strides[1], N, C, H, W, p};
        return run(c, to_tokens ? c.backend().patchify : c.backend().unpatchify, pp);
    });
}

dd_status dd_patchify(const dd_tensor* x, int p, dd_tensor* out) {
    return patch_op("dd_patchify", x, "x", out, "out", p, true);
}

dd_status dd_unpatchify(const dd_tensor* tokens, int p, dd_tensor* out) {
    return patch_op("dd_unpatchify", out, "out", tokens, "tokens", p, false);
}

dd_status dd_timestep_embedding(const dd_tensor* t, float max_period, dd_tensor* out) {
    return dd::guard("dd_timestep_embedding", [&] {
        OpCheck c("dd_timestep_embedding");
        const dd_tensor& Tt = c.tensor(t, "t", DD_F32, 1);
        const dd_tensor& O = c.tensor(out, "out", DD_F32, 2);
        c.shape(O, "out", {Tt.shape[0], -1}, "[N, dim] (N = length of t)");
        c.contiguous(Tt, "t");
        c.contiguous(O, "out");
        if (!(max_period > 1.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("max_period must be > 1 (got %g)", (double)max_period));
        dd::TimestepEmbeddingParams pp{f32(&Tt), f32w(&O), Tt.shape[0], O.shape[1], max_period};
        return run(c, c.backend().timestep_embedding, pp);
    });
}

dd_status dd_add_broadcast(dd_tensor* y, const dd_tensor* b) {
    return dd::guard("dd_add_broadcast", [&] {
        OpCheck c("dd_add_broadcast");
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 3);
        const dd_tensor& B = c.tensor(b, "b", DD_F32, 2);
        c.shape(B, "b", {Y.shape[1], Y.shape[2]}, "[R,D] (y is [N,R,D])");
        c.last_dim_contiguous(Y, "y");
        c.last_dim_contiguous(B, "b");
        dd::AddBroadcastParams pp{f32w(&Y), Y.strides[0], Y.strides[1], f32(&B), B.strides[0],
                                  Y.shape[0], Y.shape[1], Y.shape[2]};
        return run(c, c.backend().add_broadcast, pp);
    });
}

dd_status dd_linear_out_blocks(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const int64_t* blocks,
                               int nblocks, dd_tensor* y) {
    return block_linear("dd_linear_out_blocks", Sliced::kOut, x, w, bias, blocks, nblocks, y);
}

dd_status dd_linear_in_blocks(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const int64_t* blocks,
                              int nblocks, dd_tensor* y) {
    return block_linear("dd_linear_in_blocks", Sliced::kIn, x, w, bias, blocks, nblocks, y);
}

dd_status dd_linear_out_blocks_gelu(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                    const int64_t* blocks, int nblocks, dd_tensor* y) {
    return block_linear("dd_linear_out_blocks_gelu", Sliced::kOutGelu, x, w, bias, blocks, nblocks, y);
}

dd_status dd_linear_in_blocks_gated_residual(const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias,
                                             const int64_t* blocks, int nblocks, const dd_tensor* gate,
                                             dd_tensor* h) {
    return block_linear("dd_linear_in_blocks_gated_residual", Sliced::kInGated, x, w, bias, blocks, nblocks, h, gate);
}

dd_status dd_layernorm_modulate_rows(const dd_tensor* x, const dd_tensor* shift, const dd_tensor* scale,
                                     const dd_tensor* row_sample, float eps, dd_tensor* y) {
    return dd::guard("dd_layernorm_modulate_rows", [&] {
        OpCheck c("dd_layernorm_modulate_rows");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 2);
        const int64_t K = X.shape[0], D = X.shape[1];
        const dd_tensor& Y = c.tensor(y, "y", DD_F32, 2);
        c.shape(Y, "y", {K, D}, "[K,D] (as x)");
        const dd_tensor& S = c.tensor(shift, "shift", DD_F32, 2);
        const dd_tensor& G = c.tensor(scale, "scale", DD_F32, 2);
        const int64_t Sn = S.shape[0];
        c.shape(S, "shift", {-1, D}, "[S,D]");
        c.shape(G, "scale", {Sn, D}, "[S,D] (as shift)");
        const dd_tensor& R = c.tensor(row_sample, "row_sample", DD_I32, 1);
        c.shape(R, "row_sample", {K}, "[K] (rows of x)");
        c.contiguous(R, "row_sample");
        for (auto [t, n] : {std::pair{&X, "x"}, {&Y, "y"}, {&S, "shift"}, {&G, "scale"}}) c.last_dim_contiguous(*t, n);
        c.indices_in_range(R, "row_sample", Sn, "rows of shift");
        if (!(eps > 0.f)) c.error(DD_ERR_INVALID_ARGUMENT, format("eps must be > 0 (got %g)", (double)eps));
        dd::LayerNormRowsParams p{f32(&X), X.strides[0], f32w(&Y), Y.strides[0], f32(&S), S.strides[0], f32(&G),
                                  G.strides[0], static_cast<const int32_t*>(R.data()), K, D, eps};
        return run(c, c.backend().layernorm_modulate_rows, p);
    });
}

dd_status dd_select_tokens(const dd_tensor* logits, dd_tensor* index, dd_tensor* row_sample, dd_tensor* counts) {
    return dd::guard("dd_select_tokens", [&] {
        OpCheck c("dd_select_tokens");
        const dd_tensor& L = c.tensor(logits, "logits", DD_F32, 2);
        const int64_t N = L.shape[0], T = L.shape[1];
        const dd_tensor& I = c.tensor(index, "index", DD_I32, 1);
        const dd_tensor& R = c.tensor(row_sample, "row_sample", DD_I32, 1);
        const dd_tensor& C = c.tensor(counts, "counts", DD_I32, 1);
        c.shape(I, "index", {N * T}, "[N*T]");
        c.shape(R, "row_sample", {N * T}, "[N*T]");
        c.shape(C, "counts", {N}, "[N]");
        for (auto [t, n] : {std::pair{&I, "index"}, {&R, "row_sample"}, {&C, "counts"}}) c.contiguous(*t, n);
        c.last_dim_contiguous(L, "logits");
        dd::SelectTokensParams p{f32(&L), L.strides[0], static_cast<int32_t*>(I.data()),
                                 static_cast<int32_t*>(R.data()), static_cast<int32_t*>(C.data()), N, T};
        return run(c, c.backend().select_tokens, p);
    });
}

dd_status dd_relu(const dd_tensor* x, dd_tensor* y) { return unary("dd_relu", x, y, &dd::Backend::relu); }

dd_status dd_topk_rows(const dd_tensor* scores, int k, dd_tensor* index) {
    return dd::guard("dd_topk_rows", [&] {
        OpCheck c("dd_topk_rows");
        const dd_tensor& S = c.tensor(scores, "scores", DD_F32, 2);
        const int64_t N = S.shape[0], T = S.shape[1];
        const dd_tensor& I = c.tensor(index, "index", DD_I32, 2);
        if (k < 1 || k > T) c.error(DD_ERR_INVALID_ARGUMENT, format("k = %d outside [1, %lld] (tokens per row)", k, (long long)T));
        c.shape(I, "index", {N, k}, "[N,k]");
        c.contiguous(I, "index");
        c.last_dim_contiguous(S, "scores");
        if (N * T > INT32_MAX) c.error(DD_ERR_SHAPE, "N*T exceeds the i32 index range");
        dd::TopkRowsParams p{f32(&S), S.strides[0], static_cast<int32_t*>(I.data()), N, T, k};
        return run(c, c.backend().topk_rows, p);
    });
}

dd_status dd_scatter_rows(dd_tensor* dst, const dd_tensor* index, const dd_tensor* src) {
    return dd::guard("dd_scatter_rows", [&] {
        OpCheck c("dd_scatter_rows");
        const dd_tensor& D = c.tensor(dst, "dst", DD_F32, 2);
        const dd_tensor& I = c.tensor(index, "index", DD_I32, 1);
        const dd_tensor& S = c.tensor(src, "src", DD_F32, 2);
        const int64_t K = I.shape[0], W = check_indexed_rows(c, D, "dst", I, S, "src");
        c.no_overlap(D, "dst", &S, "src");
        dd::ScatterAddRowsParams p{f32w(&D), D.strides[0], static_cast<const int32_t*>(I.data()), f32(&S), S.strides[0],
                                   nullptr, 0, nullptr, K, W};
        return run(c, c.backend().scatter_rows, p);
    });
}

dd_status dd_scale_rows(dd_tensor* x, const dd_tensor* s) {
    return dd::guard("dd_scale_rows", [&] {
        OpCheck c("dd_scale_rows");
        const dd_tensor& X = c.tensor(x, "x", DD_F32, 2);
        const dd_tensor& S = c.tensor(s, "s", DD_F32, 1);
        c.shape(S, "s", {X.shape[0]}, "[R] (rows of x)");
        c.contiguous(S, "s");
        c.last_dim_contiguous(X, "x");
        dd::ScaleRowsParams p{f32w(&X), X.strides[0], f32(&S), X.shape[0], X.shape[1]};
        return run(c, c.backend().scale_rows, p);
    });
}

dd_status dd_sigmoid(const dd_tensor* x, dd_tensor* y) { return unary("dd_sigmoid", x, y, &dd::Backend::sigmoid); }

}  // extern "C"
