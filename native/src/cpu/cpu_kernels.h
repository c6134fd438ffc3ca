// Inner-loop CPU kernels, compiled once per instruction set (kernels_impl.inc) and chosen at run time
// by the dispatcher (cpu_features.cpp). The backend (backend_cpu.cpp) owns threading and strides.
#pragma once
#include <cstdint>

namespace dd::cpu {

// One (batch, head) of softmax attention: q, k, v rows at the given strides, Dh contiguous.
struct AttentionHead {
    const float* q; int64_t q_st;
    const float* k; int64_t k_st;
    const float* v; int64_t v_st;
    float* o; int64_t o_st;
    int64_t T, Dh;   // T keys (and values)
    float scale;
    float* scratch;  // attention_scratch_floats(T, Dh) floats
    int64_t Tq;      // query rows (T for self-attention)
    float* mass = nullptr;  // if set: += each key's probability summed over the query rows (T floats)
};

struct Kernels {
    const char* isa;
    // y = LN(x) * (1 + scale) + shift over one row of D (scale/shift may be null); y may equal x.
    void (*layernorm_modulate_row)(const float* x, float* y, const float* shift, const float* scale, int64_t D,
                                   float eps);
    void (*gelu_tanh)(const float* x, float* y, int64_t n);
    void (*silu)(const float* x, float* y, int64_t n);
    // h += gate * x (gate null: h += x)
    void (*gated_add_row)(float* h, const float* x, const float* gate, int64_t D);
    // y += b
    void (*add_row)(float* y, const float* b, int64_t D);
    // s = softmax(scale * s) in place
    void (*softmax_row)(float* s, int64_t n, float scale);
    // y = x rounded to bf16 (nearest even, NaN kept quiet; as dd::f32_to_bf16, except that AVX-512 runs
    // vcvtneps2bf16, which flushes inputs below 2^-126 to zero: bf16 precision only, which needs AVX512_BF16)
    void (*round_bf16)(const float* x, uint16_t* y, int64_t n);
    // Per row r of `rows` rows of n scores (s and p at row stride n): e = exp(scale * (s - max s)) rounded to bf16
    // into p, inv[r] = 1 / (the sum of the unrounded e): the softmax's denominator, applied by the caller after P V.
    // AVX-512: e within 4.2e-5 relative of exp before the rounding, for finite s (an infinite score gives NaN).
    void (*softmax_exp_bf16)(const float* s, uint16_t* p, int64_t rows, int64_t n, float scale, float* inv);
    // out = softmax(q k^T * scale) v for one head, register-blocked on this ISA's vectors; with v null only the
    // probabilities' column sums (a.mass) are made
    void (*attention_head)(const AttentionHead& a);
    int64_t (*attention_scratch_floats)(int64_t T, int64_t Dh);
    // y = x * scale rounded to bf16 as round_bf16 does (bf16 precision only: AVX-512 runs vcvtneps2bf16)
    void (*scale_to_bf16)(const float* x, float scale, uint16_t* y, int64_t n);
    // y = gelu_tanh(y) in place on bf16 values, rounded to bf16 as round_bf16 does; before the rounding within
    // 1.2e-4 relative of gelu_tanh's value (AVX-512: a cheaper exp and reciprocal, small beside bf16's 2^-8; bf16
    // precision only)
    void (*gelu_tanh_bf16)(uint16_t* y, int64_t n);
    // layernorm_modulate_row into bf16: its f32 values rounded as round_bf16 rounds them (bit for bit)
    void (*layernorm_modulate_row_bf16)(const float* x, uint16_t* y, const float* shift, const float* scale, int64_t D,
                                        float eps);
    // y[m, j] = x[m,:] . w[j,:] (+ bias[j]) for m < M, j < N (rows at strides x_rs, w_rs, y_rs), each by the same
    // operations whatever M, N and the other rows: one vector accumulator over k (the tail zero-filled), its lanes summed
    // in order, then the bias added
    void (*linear_rows)(const float* x, int64_t x_rs, int64_t M, const float* w, int64_t w_rs, int64_t N, int64_t K,
                        const float* bias, float* y, int64_t y_rs);
};

const Kernels& kernels();  // the best set for this CPU (DYNDIT_ISA=sse2|avx2|avx512 forces one)
const Kernels* kernels_for(const char* isa);  // nullptr if this CPU cannot run it

const Kernels& kernels_sse2();
const Kernels& kernels_avx2();
const Kernels& kernels_avx512();

}  // namespace dd::cpu
