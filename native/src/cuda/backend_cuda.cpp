// Host side of the CUDA backend: every op of backend.h as launches of the kernels in cuda-kernels/ (VAE, sampler
// and graph entries in their own files), CUDA errors turned into statuses naming the kernel. The same sources are
// built twice: into libdyndit against the real cudart (device "cuda") and into libdyndit_cuda_emu.so against the
// SIMT emulator's cudart shim (device "cuda-emu"), so the emulated runs exercise this code too.
#include <cuda_runtime.h>

#include "../core/backend.h"
#include "../core/vae_backend.h"
#include "activations.cuh"
#include "attention_flash2_bf16.cuh"
#include "attention_rows.cuh"
#include "attention_varlen.cuh"
#include "backend_cuda_parts.h"
#include "bf16_weights.h"
#include "cuda_context.h"
#include "embed_ops.cuh"
#include "gated_residual.cuh"
#include "gemm_tf32.cuh"
#include "layernorm_modulate.cuh"
#include "softmax_rows.cuh"
#include "token_select.cuh"
#include "topk_rows.cuh"
#include "varlen_tables.h"
#include "vae_transpose.cuh"

namespace dd {
namespace cuda_impl {
namespace {

ck::LinearArgs linear_args(const float* x, int64_t x_rs, const float* w, int64_t w_rs, const float* bias, float* y,
                           int64_t y_rs, int64_t M) {
    ck::LinearArgs a;
    a.x = x; a.x_rs = x_rs;
    a.w = w; a.w_rs = w_rs;
    a.bias = bias;
    a.y = y; a.y_rs = y_rs;
    a.M = (int)M;
    a.precision = gemm_precision();
    return a;
}

// bf16: the weights' bf16 copy (W [N][K], made once), for GEMMs with enough rows for the 128-row tiles that read
// it (the 64-row kernel of the M = 2 x batch adaLN GEMVs rounds fp32 weights itself).
void attach_bf16_weights(ck::LinearArgs& a, int64_t N, int64_t K) {
    if (a.precision != ck::GemmPrecision::kBf16 || a.M <= 64) return;
    const Bf16Weights c = bf16_weights(a.w, N, K, a.w_rs);
    a.w16 = c.p;
    a.w16_rs = c.rs;
}

// A bf16 operand outside the bf16 GEMM precision: DD_ERR_DTYPE naming it, in the CPU backend's words.
dd_status needs_bf16_precision(const char* op, const char* tensor) {
    return fail(DD_ERR_DTYPE, format("%s: tensor '%s' is bf16, which needs the bf16 GEMM precision "
                                     "(dd_set_gemm_precision); the device computes in %s",
                                     op, tensor, gemm_precision() == ck::GemmPrecision::kTf32 ? "tf32" : "fp32"));
}

// bf16 activations (LinearParams::x_bf16 / y_bf16) into the kernel's arguments (bf16 GEMM precision only).
dd_status attach_bf16_io(ck::LinearArgs& a, const LinearParams& p, const char* op) {
    if (!p.x_bf16 && !p.y_bf16) return DD_OK;
    if (a.precision != ck::GemmPrecision::kBf16) return needs_bf16_precision(op, p.x_bf16 ? "x" : "y");
    a.x16 = p.x_bf16;
    a.y16 = p.y_bf16;
    return DD_OK;
}

dd_status linear_with(const LinearParams& p, bool weights) {
    if (!fits_int(p.M) || !fits_int(p.N) || !fits_int(p.K)) return too_big("linear", "M, N or K", p.M);
    ck::LinearArgs a = linear_args(p.x, p.x_row_stride, p.w, p.w_row_stride, p.bias, p.y, p.y_row_stride, p.M);
    if (dd_status s = attach_bf16_io(a, p, "dd_linear")) return s;
    if (weights) attach_bf16_weights(a, p.N, p.K);
    return check_launch(ck::linear(a, (int)p.N, (int)p.K, stream()), "linear (gemm_tf32)");
}
dd_status linear(const LinearParams& p) { return linear_with(p, true); }

// The epilogue in the GEMM (gemm_tf32.cu): GELU-tanh, or h += gate[sample] * a with sample = row / rows_per_sample.
dd_status linear_epilogue(const LinearEpilogueParams& e) {
    const LinearParams& p = e.lin;
    const char* name = e.epilogue == LinearEpilogue::kGeluTanh ? "linear_gelu (gemm_tf32)" : "linear_gated_residual (gemm_tf32)";
    if (!fits_int(p.M) || !fits_int(p.N) || !fits_int(p.K)) return too_big(name, "M, N or K", p.M);
    if (!fits_int(e.rows_per_sample) || e.rows_per_sample < 1) return too_big(name, "rows per sample", e.rows_per_sample);
    ck::LinearArgs a = linear_args(p.x, p.x_row_stride, p.w, p.w_row_stride, p.bias, p.y, p.y_row_stride, p.M);
    const bool gelu = e.epilogue == LinearEpilogue::kGeluTanh;
    if (dd_status s = attach_bf16_io(a, p, gelu ? "dd_linear_gelu" : "dd_linear_gated_residual")) return s;
    attach_bf16_weights(a, p.N, p.K);
    a.epilogue = e.epilogue == LinearEpilogue::kGeluTanh ? ck::GemmEpilogue::kGeluTanh : ck::GemmEpilogue::kGatedResidual;
    a.gate = e.gate;
    a.gate_rs = e.gate_rs;
    a.rows_per_sample = (int)e.rows_per_sample;
    return check_launch(ck::linear(a, (int)p.N, (int)p.K, stream()), name);
}

dd_status block_linear(const BlockLinearParams& p, bool out_side) {
    const char* name = out_side ? "linear_out_blocks (gemm_tf32)" : "linear_in_blocks (gemm_tf32)";
    if (!fits_int(p.M) || !fits_int(p.N) || !fits_int(p.K)) return too_big(name, "M, N or K", p.M);
    if (p.nblocks > ck::kLinearMaxBlocks)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel %s: %d blocks, at most %d per call", name, p.nblocks,
                                               ck::kLinearMaxBlocks));
    ck::LinearArgs a = linear_args(p.x, p.x_row_stride, p.w, p.w_row_stride, p.bias, p.y, p.y_row_stride, p.M);
    attach_bf16_weights(a, p.N, p.K);
    cudaError_t e = out_side ? ck::linear_out_blocks(a, p.blocks, p.nblocks, (int)p.N, (int)p.K, stream())
                             : ck::linear_in_blocks(a, p.blocks, p.nblocks, (int)p.N, (int)p.K, stream());
    return check_launch(e, name);
}
dd_status linear_out_blocks(const BlockLinearParams& p) { return block_linear(p, true); }
dd_status linear_in_blocks(const BlockLinearParams& p) { return block_linear(p, false); }

dd_status layernorm_modulate(const LayerNormModulateParams& p) {
    return check_launch(ck::layernorm_modulate(p.x, p.x_sn, p.x_st, p.y, p.y_sn, p.y_st, p.shift, p.shift_sn, p.scale,
                                               p.scale_sn, p.N, p.T, p.D, p.eps, stream()),
                        "layernorm_modulate");
}

dd_status layernorm_modulate_rows(const LayerNormRowsParams& p) {
    return check_launch(ck::layernorm_modulate_rows(p.x, p.x_rs, p.y, p.y_rs, p.shift, p.shift_rs, p.scale,
                                                    p.scale_rs, p.row_sample, p.K, p.D, p.eps, stream()),
                        "layernorm_modulate_rows");
}

dd_status gelu_tanh(const UnaryParams& p) { return check_launch(ck::gelu_tanh(p.x, p.y, p.n, stream()), "gelu_tanh"); }
dd_status silu(const UnaryParams& p) { return check_launch(ck::silu(p.x, p.y, p.n, stream()), "silu"); }
dd_status relu(const UnaryParams& p) { return check_launch(ck::relu(p.x, p.y, p.n, stream()), "relu"); }
dd_status sigmoid(const UnaryParams& p) { return check_launch(ck::sigmoid(p.x, p.y, p.n, stream()), "sigmoid"); }

dd_status gated_residual_add(const GatedResidualParams& p) {
    return check_launch(ck::gated_residual_add(p.h, p.h_sn, p.h_st, p.x, p.x_sn, p.x_st, p.gate, p.gate_sn, p.N, p.T,
                                               p.D, stream()),
                        "gated_residual_add");
}

dd_status attention_args_fit(int64_t B, int64_t T, int64_t H, int64_t Dh, const char* name) {
    if (!fits_int(B) || !fits_int(T) || !fits_int(H)) return too_big(name, "batch, tokens or heads", T);
    if (Dh < 1 || Dh > 128)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel %s: head dim %lld, the kernel takes 1..128", name,
                                               (long long)Dh));
    return DD_OK;
}

// Attention as S = Q K^T, row softmax, O = S V through the GEMM kernel, for head dims above the flash kernel's
// 128 (the SD-VAE's single 512-channel head). V is transposed once per head so both products are Linear's
// x W^T form; S (T x T) and V^T live in per-thread scratch.
dd_status attention_by_gemm(const AttentionParams& p) {
    const char* name = "attention (GEMM form, head dim > 128)";
    if (p.v_st != p.Dh)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA %s: needs V rows of exactly the head dim (one head, dense); "
                                               "got row stride %lld for head dim %lld", name, (long long)p.v_st,
                                               (long long)p.Dh));
    if (!fits_int(p.T) || !fits_int(p.Dh)) return too_big(name, "tokens or head dim", p.T);
    thread_local Scratch scratch;
    dd_status st = DD_OK;
    const size_t tt = (size_t)p.T * p.T, dt = (size_t)p.Dh * p.T;
    float* S = static_cast<float*>(scratch.get((tt + dt) * sizeof(float), name, &st));
    if (!S) return st;
    float* Vt = S + tt;
    for (int64_t n = 0; n < p.N; ++n) {
        for (int64_t h = 0; h < p.H; ++h) {
            const float* q = p.q + n * p.q_sn + h * p.q_sh;
            const float* k = p.k + n * p.k_sn + h * p.k_sh;
            const float* v = p.v + n * p.v_sn + h * p.v_sh;
            float* o = p.o + n * p.o_sn + h * p.o_sh;
            ck::LinearArgs qk = linear_args(q, p.q_st, k, p.k_st, nullptr, S, p.T, p.T);
            if ((st = check_launch(ck::linear(qk, (int)p.T, (int)p.Dh, stream()), "attention (Q K^T)"))) return st;
            if ((st = check_launch(ck::softmax_rows(S, p.T, p.T, p.T, p.scale, stream()), "attention (softmax_rows)")))
                return st;
            if ((st = check_launch(ck::vae_transpose_last2(v, nullptr, Vt, 1, p.T, p.Dh, stream()),
                                   "attention (V transpose)")))
                return st;
            ck::LinearArgs pv = linear_args(S, p.T, Vt, p.T, nullptr, o, p.o_st, p.T);
            if ((st = check_launch(ck::linear(pv, (int)p.Dh, (int)p.T, stream()), "attention (P V)"))) return st;
        }
    }
    return DD_OK;
}

// Some queries against every key (Tq != Tk, token caching): attention_rows.cu.
dd_status attention_rows(const AttentionParams& p) {
    const char* name = "attention (attention_rows, queries != keys)";
    if (p.Dh > 128)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA %s: head dim %lld, at most 128", name, (long long)p.Dh));
    if (!fits_int(p.T) || !fits_int(p.Tk) || p.N > 65535 || p.H > 65535) return too_big(name, "tokens, batch or heads", p.T);
    ck::AttentionRowsArgs a{p.q, p.q_sn, p.q_st, p.q_sh, p.k, p.k_sn, p.k_st, p.k_sh, p.v, p.v_sn, p.v_st, p.v_sh,
                            p.o, p.o_sn, p.o_st, p.o_sh, (int)p.N, (int)p.T, (int)p.Tk, (int)p.H, (int)p.Dh, p.scale};
    return check_launch(ck::attention_rows(a, stream()), name);
}

// bf16 attention operands attention_flash2_bf16 cannot copy (it has no fallback): DD_ERR_UNSUPPORTED with its limits.
dd_status bf16_operands_refused(const char* name) {
    return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel %s: q, k and v need 16-byte-aligned data with strides in "
                                           "multiples of 8 values, out 4-byte-aligned data with even strides", name));
}

// bf16 q / k / v / out: attention_flash2_bf16 (self-attention, head dims up to 128, 16-B-aligned operands), in the
// bf16 GEMM precision; other shapes are refused with the kernel's limit named.
dd_status attention_bf16(const AttentionParams& p) {
    const char* name = "attention (attention_flash2_bf16, bf16 operands)";
    if (gemm_precision() != ck::GemmPrecision::kBf16) return needs_bf16_precision("dd_attention", "q");
    if (p.Tk != p.T)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel %s: self-attention only (k has %lld tokens, q %lld)", name,
                                               (long long)p.Tk, (long long)p.T));
    if (dd_status s = attention_args_fit(p.N, p.T, p.H, p.Dh, name)) return s;
    ck::AttentionVarlenArgs a{};
    a.q16 = p.q16; a.q_sn = p.q_sn; a.q_st = p.q_st; a.q_sh = p.q_sh;
    a.k16 = p.k16; a.k_sn = p.k_sn; a.k_st = p.k_st; a.k_sh = p.k_sh;
    a.v16 = p.v16; a.v_sn = p.v_sn; a.v_st = p.v_st; a.v_sh = p.v_sh;
    a.o16 = p.o16; a.o_sn = p.o_sn; a.o_st = p.o_st; a.o_sh = p.o_sh;
    a.B = (int)p.N; a.R = (int)(p.N * p.T); a.T = (int)p.T;
    a.H = (int)p.H; a.Dh = (int)p.Dh;
    a.scale = p.scale;
    a.tensor_cores = true;
    if (!ck::attention_flash2_bf16_takes(a)) return bf16_operands_refused(name);
    return check_launch(ck::attention_varlen(a, stream()), name);
}

dd_status attention(const AttentionParams& p) {
    if (p.q16) return attention_bf16(p);
    if (p.Tk != p.T) return attention_rows(p);
    if (p.Dh > 128) return attention_by_gemm(p);
    if (dd_status s = attention_args_fit(p.N, p.T, p.H, p.Dh, "attention (attention_varlen)")) return s;
    ck::AttentionVarlenArgs a{};
    a.q = p.q; a.q_sn = p.q_sn; a.q_st = p.q_st; a.q_sh = p.q_sh;
    a.k = p.k; a.k_sn = p.k_sn; a.k_st = p.k_st; a.k_sh = p.k_sh;
    a.v = p.v; a.v_sn = p.v_sn; a.v_st = p.v_st; a.v_sh = p.v_sh;
    a.o = p.o; a.o_sn = p.o_sn; a.o_st = p.o_st; a.o_sh = p.o_sh;
    a.cu_seqlens = nullptr;
    a.B = (int)p.N; a.R = (int)(p.N * p.T); a.T = (int)p.T;
    a.H = (int)p.H; a.Dh = (int)p.Dh;
    a.scale = p.scale;
    a.tensor_cores = precision() != DD_PRECISION_FP32;  // TF32 / BF16 models: attention on tensor cores too
    return check_launch(ck::attention_varlen(a, stream()), "attention (attention_varlen, dense)");
}

dd_status attention_varlen(const AttentionVarlenParams& p) {
    const char* name = p.q16 ? "attention_varlen (attention_flash2_bf16, bf16 operands)" : "attention_varlen";
    if (p.q16 && gemm_precision() != ck::GemmPrecision::kBf16) return needs_bf16_precision("dd_attention_varlen", "q");
    if (dd_status s = attention_args_fit(p.B, p.R, p.H, p.Dh, name)) return s;
    ck::AttentionVarlenArgs a{};
    a.q = p.q; a.q_st = p.q_st; a.q_sh = p.q_sh;
    a.k = p.k; a.k_st = p.k_st; a.k_sh = p.k_sh;
    a.v = p.v; a.v_st = p.v_st; a.v_sh = p.v_sh;
    a.o = p.o; a.o_st = p.o_st; a.o_sh = p.o_sh;
    a.q16 = p.q16; a.k16 = p.k16; a.v16 = p.v16; a.o16 = p.o16;
    a.B = (int)p.B; a.R = (int)p.R; a.T = 0;
    a.H = (int)p.H; a.Dh = (int)p.Dh;
    a.scale = p.scale;
    a.tensor_cores = precision() != DD_PRECISION_FP32;  // TF32 / BF16 models: attention on tensor cores too
    // The query tiles come from a table built here (cu_seqlens are on the host), for the kernel that will run.
    a.tile_rows = ck::attention_query_tile(a);
    VarlenTables t;
    if (dd_status s = varlen_tables(p.cu_seqlens, a.B, a.tile_rows, &t)) return s;
    a.cu_seqlens = t.cu_seqlens;
    a.tiles = t.tiles;
    a.n_tiles = t.n_tiles;
    if (p.q16 && !ck::attention_flash2_bf16_takes(a)) return bf16_operands_refused(name);
    return check_launch(ck::attention_varlen(a, stream()), name);
}

dd_status gather_rows(const GatherRowsParams& p) {
    return check_launch(ck::gather_rows(p.src, p.src_rs, p.index, p.dst, p.dst_rs, p.K, p.D, stream()), "gather_rows");
}

// Atomic adds: the C API does not promise distinct indices; with distinct ones (every caller here) each
// element receives exactly one add, so the result is deterministic all the same.
dd_status scatter_add_rows(const ScatterAddRowsParams& p) {
    return check_launch(ck::scatter_add_rows(p.dst, p.dst_rs, p.index, p.src, p.src_rs, p.gate, p.gate_rs,
                                             p.row_sample, p.K, p.D, false, stream()),
                        "scatter_add_rows");
}

dd_status scatter_rows(const ScatterAddRowsParams& p) {
    return check_launch(ck::scatter_rows(p.dst, p.dst_rs, p.index, p.src, p.src_rs, p.K, p.D, stream()), "scatter_rows");
}

dd_status scale_rows(const ScaleRowsParams& p) {
    return check_launch(ck::scale_rows(p.x, p.x_rs, p.s, p.R, p.D, stream()), "scale_rows");
}

dd_status patchify(const PatchParams& p) {
    return check_launch(ck::patchify(p.src, p.dst, p.tok_st, p.N, p.C, p.H, p.W, p.p, stream()), "patchify");
}
dd_status unpatchify(const PatchParams& p) {
    return check_launch(ck::unpatchify(p.src, p.tok_st, p.dst, p.N, p.C, p.H, p.W, p.p, stream()), "unpatchify");
}

dd_status timestep_embedding(const TimestepEmbeddingParams& p) {
    return check_launch(ck::timestep_embedding(p.t, p.out, p.N, p.dim, p.max_period, stream()), "timestep_embedding");
}

dd_status add_broadcast(const AddBroadcastParams& p) {
    return check_launch(ck::add_broadcast(p.y, p.y_sn, p.y_sr, p.b, p.b_sr, p.N, p.R, p.D, stream()), "add_broadcast");
}

dd_status select_tokens(const SelectTokensParams& p) {
    return check_launch(ck::select_tokens(p.logits, p.logits_rs, p.index, p.row_sample, p.counts, p.N, p.T, stream()),
                        "select_tokens");
}

dd_status topk_rows(const TopkRowsParams& p) {
    if (p.T > ck::kTopkMaxT)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel topk_rows: %lld tokens per row, the kernel takes at most %lld",
                                               (long long)p.T, (long long)ck::kTopkMaxT));
    return check_launch(ck::topk_rows(p.scores, p.scores_rs, p.index, p.N, p.T, p.k, stream()), "topk_rows");
}

}  // namespace

dd_status linear_activations(const LinearParams& p) { return linear_with(p, false); }

}  // namespace cuda_impl

namespace {
using namespace cuda_impl;

#ifndef DD_CUDA_BACKEND_NAME
#define DD_CUDA_BACKEND_NAME "cuda"  // "cuda-emu" in the emulator build
#endif

Backend make_cuda_backend() {
    Backend b{};
    b.name = DD_CUDA_BACKEND_NAME;
    b.linear = linear;
    b.layernorm_modulate = layernorm_modulate;
    b.gelu_tanh = gelu_tanh;
    b.silu = silu;
    b.gated_residual_add = gated_residual_add;
    b.attention = attention;
    b.gather_rows = gather_rows;
    b.scatter_add_rows = scatter_add_rows;
    b.patchify = patchify;
    b.unpatchify = unpatchify;
    b.timestep_embedding = timestep_embedding;
    b.add_broadcast = add_broadcast;
    b.linear_out_blocks = linear_out_blocks;
    b.linear_in_blocks = linear_in_blocks;
    b.layernorm_modulate_rows = layernorm_modulate_rows;
    b.select_tokens = select_tokens;
    b.relu = relu;
    b.topk_rows = topk_rows;
    b.scatter_rows = scatter_rows;
    b.scale_rows = scale_rows;
    b.sigmoid = sigmoid;
    b.attention_varlen = attention_varlen;
    b.set_gemm_precision = set_gemm_precision;
    b.graph_begin = graph_begin;
    b.graph_end = graph_end;
    b.graph_launch = graph_launch;
    b.graph_free = graph_free;
    b.ddpm_update = ddpm_update;
    b.ddim_update = ddim_update;
    b.cfg_combine = cfg_combine;
    b.weak_guidance = weak_guidance;
    b.dpm_update = dpm_update;
    b.use_device = use_device;
    b.attention_key_mass = attention_key_mass;
    b.linear_epilogue = linear_epilogue;
    b.linear_bf16_io = true;
    b.attention_bf16_io = true;
    return b;
}

const Backend cuda = make_cuda_backend();
const VaeBackend cuda_vae{DD_CUDA_BACKEND_NAME, conv2d, group_norm, upsample_nearest2x, transpose_last2};

}  // namespace

const Backend* cuda_backend() { return &cuda; }
const VaeBackend* cuda_vae_backend() { return &cuda_vae; }

}  // namespace dd
