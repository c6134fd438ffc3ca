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
};

// y = LN(x) * (1 + scale) + shift, over the last dim of [N,T,D]
struct LayerNormModulateParams {
    const float* x; int64_t x_sn, x_st;
    float* y; int64_t y_sn, y_st;
    const float* shift; int64_t shift_sn;  // may be null
    const float* scale; int64_t scale_sn;  // may be null
    int64_t N, T, D;
    float eps;
};

struct UnaryParams {
    const float* x;
    float* y;
    int64_t n;
};

// h += gate * x over [N,T,D]
struct GatedResidualParams {
    float* h; int64_t h_sn, h_st;
    const float* x; int64_t x_sn, x_st;
    const float* gate; int64_t gate_sn;  // may be null
    int64_t N, T, D;
};

// out = softmax(q k^T * scale) v per (n, head); [N,T,H,Dh] views
struct AttentionParams {
    const float* q; int64_t q_sn, q_st, q_sh;
    const float* k; int64_t k_sn, k_st, k_sh;
    const float* v; int64_t v_sn, v_st, v_sh;
    float* o; int64_t o_sn, o_st, o_sh;
    int64_t N, T, H, Dh;
    float scale;
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
};

const Backend* cpu_backend();
const Backend* cuda_backend();  // nullptr when the build has no CUDA

}  // namespace dd
