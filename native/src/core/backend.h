// The backend seam: each op is declared once here as a parameter struct (raw pointers, sizes and
// explicit strides, already validated by ops.cpp) and implemented once per backend.
#pragma once
#include <cstdint>

#include "dyndit/dyndit.h"

namespace dd {

// y[m,:] = x[m,:] W^T + bias
struct LinearParams {
    const float* x; int64_t x_row_stride;
    const float* w; int64_t w_row_stride;
    const float* bias;  // may be null
    float* y; int64_t y_row_stride;
    int64_t M, N, K;
    // bf16 activations (backends with linear_bf16_io only): when set, x (resp. y) is null and the data is bf16 here,
    // at the same row stride.
    const uint16_t* x_bf16 = nullptr;
    uint16_t* y_bf16 = nullptr;
};

// What linear_epilogue applies to a = x[m,:] W^T + bias: y = gelu_tanh(a), or y += gate[m / rows_per_sample] * a.
enum class LinearEpilogue { kGeluTanh, kGatedResidual };
struct LinearEpilogueParams {
    LinearParams lin;
    LinearEpilogue epilogue;
    const float* gate; int64_t gate_rs;  // kGatedResidual: [M / rows_per_sample, N] rows, or null (gate 1)
    int64_t rows_per_sample;
};

// y = LN(x) * (1 + scale) + shift, over the last dim of [N,T,D]
struct LayerNormModulateParams {
    const float* x; int64_t x_sn, x_st;
    float* y; int64_t y_sn, y_st;
    const float* shift; int64_t shift_sn;  // may be null
    const float* scale; int64_t scale_sn;  // may be null
    int64_t N, T, D;
    float eps;
    uint16_t* y_bf16 = nullptr;  // backends with layernorm_bf16_out: y in bf16 here (y null), same strides
};

struct UnaryParams {
    const float* x;
    float* y;
    int64_t n;
    // bf16 x and y (gelu_tanh on backends with sliced_bf16_io): x and y are then null
    const uint16_t* x16 = nullptr;
    uint16_t* y16 = nullptr;
};

// h += gate * x over [N,T,D]
struct GatedResidualParams {
    float* h; int64_t h_sn, h_st;
    const float* x; int64_t x_sn, x_st;
    const float* gate; int64_t gate_sn;  // may be null
    int64_t N, T, D;
};

// out = softmax(q k^T * scale) v per (n, head); q, o [N,T,H,Dh], k, v [N,Tk,H,Dh] views (Tk = T: self-attention)
struct AttentionParams {
    const float* q; int64_t q_sn, q_st, q_sh;
    const float* k; int64_t k_sn, k_st, k_sh;
    const float* v; int64_t v_sn, v_st, v_sh;
    float* o; int64_t o_sn, o_st, o_sh;
    int64_t N, T, H, Dh;
    int64_t Tk;
    float scale;
    // bf16 q / k / v / out (backends with attention_bf16_io only): all four together; q, k, v, o are then null and
    // the data is bf16 here, at the same strides.
    const uint16_t *q16 = nullptr, *k16 = nullptr, *v16 = nullptr;
    uint16_t* o16 = nullptr;
};

// out[n,j] = (1/H) sum_h sum_i softmax_j(scale q_i . k_j): attention column sums, mean over heads; out [N,T]
struct AttentionKeyMassParams {
    const float* q; int64_t q_sn, q_st, q_sh;
    const float* k; int64_t k_sn, k_st, k_sh;
    float* out;
    int64_t N, T, H, Dh;
    float scale;
};

// Packed sequences [R,H,Dh]: sequence b is rows [cu[b], cu[b+1])
struct AttentionVarlenParams {
    const float* q; int64_t q_st, q_sh;
    const float* k; int64_t k_st, k_sh;
    const float* v; int64_t v_st, v_sh;
    float* o; int64_t o_st, o_sh;
    const int32_t* cu_seqlens; int64_t B;
    int64_t R, H, Dh;
    float scale;
    // bf16 operands, as AttentionParams'
    const uint16_t *q16 = nullptr, *k16 = nullptr, *v16 = nullptr;
    uint16_t* o16 = nullptr;
};

struct GatherRowsParams {
    const float* src; int64_t src_rs;
    const int32_t* index;
    float* dst; int64_t dst_rs;
    int64_t K, D;
};

struct ScatterAddRowsParams {
    float* dst; int64_t dst_rs;
    const int32_t* index;
    const float* src; int64_t src_rs;
    const float* gate; int64_t gate_rs;  // may be null
    const int32_t* row_sample;           // with gate
    int64_t K, D;
};

// x [N,C,H,W] <-> tokens [N, gh*gw, C*p*p] (patchify order (c,a,b); unpatchify order (a,b,c))
struct PatchParams {
    const float* src;
    float* dst;
    int64_t tok_st;  // row stride of the token tensor (src for unpatchify, dst for patchify)
    int64_t N, C, H, W, p;
};

struct TimestepEmbeddingParams {
    const float* t;
    float* out;
    int64_t N, dim;
    float max_period;
};

// y[n] += b over [N,R,D]
struct AddBroadcastParams {
    float* y; int64_t y_sn, y_sr;
    const float* b; int64_t b_sr;
    int64_t N, R, D;
};

// Width-sliced GEMM: blocks of output rows (OutBlocks) or input columns (InBlocks) of w [N,K]
struct BlockLinearParams {
    const float* x; int64_t x_row_stride;
    const float* w; int64_t w_row_stride;
    const float* bias;
    float* y; int64_t y_row_stride;
    int64_t M;
    const int64_t* blocks; int nblocks;  // (start, length) pairs, validated
    int64_t N, K;                        // full sizes of w
    // bf16 activations (backends with sliced_bf16_io): x (then x is null), and for linear_out_blocks y (then y is null)
    const uint16_t* x_bf16 = nullptr;
    uint16_t* y_bf16 = nullptr;
    // linear_in_blocks_gated_residual: y is h, and h += gate[m / rows_per_sample] * (the product); gate may be null
    const float* gate = nullptr; int64_t gate_rs = 0, rows_per_sample = 1;
};

struct LayerNormRowsParams {
    const float* x; int64_t x_rs;
    float* y; int64_t y_rs;
    const float* shift; int64_t shift_rs;
    const float* scale; int64_t scale_rs;
    const int32_t* row_sample;
    int64_t K, D;
    float eps;
};

struct SelectTokensParams {
    const float* logits; int64_t logits_rs;
    int32_t* index;
    int32_t* row_sample;
    int32_t* counts;
    int64_t N, T;
};

struct TopkRowsParams {
    const float* scores; int64_t scores_rs;
    int32_t* index;  // [N,k]
    int64_t N, T, k;
};

struct ScaleRowsParams {
    float* x; int64_t x_rs;
    const float* s;
    int64_t R, D;
};

// One DDPM or DDIM step over [B,C,P] latents from a dense [B,Co,P] model output, float32 as the Java sampler.
// k: DDPM sqrt_recip, sqrt_recipm1, coef1, coef2, max_log, min_log, fixed_log; DDIM sqrt_recip, sqrt_recipm1,
// sqrt_ab_prev, dir_coef, sigma. noise / pred_xstart may be null (no noise term / not wanted).
struct SamplerStepParams {
    const float* x; const float* out; const float* noise;
    float* pred_xstart; float* next;
    int64_t B, C, Co, P;
    float k[7];
    bool learned_range;
};

// One DPM-Solver++ step (dd_dpm_update): x0 = (x - k0 eps) / k1 from channels [0, C) of out, then the update of
// `order` with k[2..]: 1 {ratio, c0}; 2 {ratio, c0, c1, 1/r0}; 3 {ratio, c0, cD1, cD2, 1/r0, 1/r1, r0/(r0+r1), 1/(r0+r1)}.
struct DpmStepParams {
    const float* x; const float* out; const float* m1; const float* m2;
    float* x0; float* next;
    int64_t B, C, Co, P;
    float k[10];
    int order;
};

// forward_with_cfg's combine in place: out [2n,Co,P], channels < guided of both halves = u + s (c - u).
struct CfgCombineParams {
    float* out;
    int64_t n, Co, P, guided;
    float scale;
};

// FlexiDiT weak guidance in place: cond [n,Co,P], channels < guided = g + s (cond - g), g = guide [n,Co,P].
struct WeakGuidanceParams {
    float* cond;
    const float* guide;
    int64_t n, Co, P, guided;
    float scale;
};

struct Backend {
    const char* name;
    dd_status (*linear)(const LinearParams&);
    dd_status (*layernorm_modulate)(const LayerNormModulateParams&);
    dd_status (*gelu_tanh)(const UnaryParams&);
    dd_status (*silu)(const UnaryParams&);
    dd_status (*gated_residual_add)(const GatedResidualParams&);
    dd_status (*attention)(const AttentionParams&);
    dd_status (*gather_rows)(const GatherRowsParams&);
    dd_status (*scatter_add_rows)(const ScatterAddRowsParams&);
    dd_status (*patchify)(const PatchParams&);
    dd_status (*unpatchify)(const PatchParams&);
    dd_status (*timestep_embedding)(const TimestepEmbeddingParams&);
    dd_status (*add_broadcast)(const AddBroadcastParams&);
    dd_status (*linear_out_blocks)(const BlockLinearParams&);
    dd_status (*linear_in_blocks)(const BlockLinearParams&);
    dd_status (*layernorm_modulate_rows)(const LayerNormRowsParams&);
    dd_status (*select_tokens)(const SelectTokensParams&);
    dd_status (*relu)(const UnaryParams&);
    dd_status (*topk_rows)(const TopkRowsParams&);
    dd_status (*scatter_rows)(const ScatterAddRowsParams&);  // gate unused
    dd_status (*scale_rows)(const ScaleRowsParams&);
    dd_status (*sigmoid)(const UnaryParams&);
    dd_status (*attention_varlen)(const AttentionVarlenParams&);
    // GEMM arithmetic (dd_precision) of later linear / conv calls; null: always fp32 (the CPU).
    dd_status (*set_gemm_precision)(int precision);
    // Stream capture of this thread's later ops into a replayable graph (CUDA graphs); null: unsupported.
    dd_status (*graph_begin)();
    dd_status (*graph_end)(void** graph);
    dd_status (*graph_launch)(void* graph);
    void (*graph_free)(void* graph);
    dd_status (*ddpm_update)(const SamplerStepParams&);
    dd_status (*ddim_update)(const SamplerStepParams&);
    dd_status (*cfg_combine)(const CfgCombineParams&);
    dd_status (*weak_guidance)(const WeakGuidanceParams&);
    dd_status (*dpm_update)(const DpmStepParams&);
    // Makes device `index` current for the calling thread's next ops (CUDA: cudaSetDevice, that device's stream);
    // null: one device (the CPU).
    dd_status (*use_device)(int index);
    dd_status (*attention_key_mass)(const AttentionKeyMassParams&);
    // linear with the op that follows it (dd_linear_gelu / dd_linear_gated_residual).
    dd_status (*linear_epilogue)(const LinearEpilogueParams&);
    // self-attention that also writes the key mass [N,T] (contiguous) from the same probabilities; null:
    // dd_attention_with_key_mass runs attention, then attention_key_mass.
    dd_status (*attention_with_key_mass)(const AttentionParams&, float* mass);
    // linear and linear_epilogue take bf16 x / y (LinearParams::x_bf16 / y_bf16) in the bf16 GEMM precision.
    bool linear_bf16_io;
    // layernorm_modulate writes a bf16 y (LayerNormModulateParams::y_bf16).
    bool layernorm_bf16_out;
    // attention takes bf16 q / k / v / out (AttentionParams::q16 ...) in the bf16 GEMM precision.
    bool attention_bf16_io = false;
    // linear_out_blocks takes bf16 x / y, linear_in_blocks bf16 x, gelu_tanh bf16 x and y, in the bf16 GEMM precision.
    bool sliced_bf16_io = false;
    // The width-sliced linears with the op that follows them (dd_linear_out_blocks_gelu,
    // dd_linear_in_blocks_gated_residual), bit for bit the separate ops; null: unsupported.
    dd_status (*linear_out_blocks_gelu)(const BlockLinearParams&) = nullptr;
    dd_status (*linear_in_blocks_gated_residual)(const BlockLinearParams&) = nullptr;
    // dd_linear_row_invariant: f32 x, w, y; each row of y by the same operations whatever the other rows (null:
    // unsupported).
    dd_status (*linear_row_invariant)(const LinearParams&) = nullptr;
};

// The backend of a device type (the cuda-emu plugin is loaded on first use); throws dd::Error when the
// build or machine has none.
const Backend& backend_for(int device_type);

const Backend* cpu_backend();
const Backend* cuda_backend();  // nullptr when the build has no CUDA

}  // namespace dd
