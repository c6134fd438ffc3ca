// The CPU backend's matrix products, all through oneDNN matmul primitives: created once per shape (a
// process-wide cache that any thread may use), executed on the calling thread's stream with a per-thread
// scratchpad. fp32, or bf16 inputs with fp32 accumulation and output.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "dyndit/dyndit.h"

namespace dd::cpu {

// C[M,N] (+)= A[M,K] B[K,N] (+ bias[N]); element strides, C's columns contiguous. A and C are f32 unless a_bf16 /
// c_bf16 say they hold bf16.
struct Gemm {
    const void* a; int64_t a_m, a_k;
    const void* b; int64_t b_k, b_n;
    bool b_bf16;         // a bf16 product: b holds bf16 values, or b_pack says how to make them; a is rounded too
    const float* bias;   // may be null
    void* c; int64_t c_m;
    int64_t M, N, K;
    bool accumulate;     // C += A B instead of C = A B
    bool a_bf16 = false; // a holds bf16 values (needs b_bf16; no rounding pass), contiguous in K
    bool c_bf16 = false; // C receives bf16 (the f32 result rounded to nearest even once)
    // bf16 products: b is the f32 weight (or a block of it) read as [K, N] at (b_k, b_n) = (1, ld), packed once into
    // the bf16 layout oneDNN prefers (cached_weights, dropped by forget_weights): oneDNN then never repacks it per
    // call, which costs the most when a product has few rows (token-cached steps, DyDiT's per-block products).
    bool b_pack = false;
};

// Runs one product; a oneDNN failure becomes DD_ERR_INTERNAL (or OUT_OF_MEMORY) naming the op and the shape.
dd_status gemm(const char* op, const Gemm& g);

// C[M,N] = A[M,K] B[K,N] (batched: Bf16Product::batch), A and B bf16 at element strides (A's K contiguous), C fp32
// with contiguous columns, run by the calling thread alone: for one thread's share of an OpenMP loop (oneDNN runs
// sequentially inside a parallel region; the primitive is planned for one thread so the result does not depend on the team size). Primitives come
// from the shared cache; scratchpad and stream are the calling thread's. Throws dnnl::error or std::bad_alloc.
struct Bf16Product {
    const uint16_t* a; int64_t a_m;
    const uint16_t* b; int64_t b_k, b_n;
    float* c; int64_t c_m;
    int64_t M, N, K;
    // `batch` such products in one call (one primitive's fixed cost for all), the i-th at a + i a_b, b + i b_b, c + i c_b
    int64_t batch = 1, a_b = 0, b_b = 0, c_b = 0;
};
void bf16_product_serial(const Bf16Product& p);

// A copy of the weights w [rows, cols] (row stride ld) that `fill` writes into `bytes` fresh 64-byte aligned bytes
// once, kept under (w, rows, cols, ld, layout): oneDNN's preferred weight layouts (layout: dnnl_util.h layout_id). May throw std::bad_alloc or what fill throws.
const void* cached_weights(const float* w, int64_t rows, int64_t cols, int64_t ld, uint64_t layout, size_t bytes,
                           const std::function<void(void*)>& fill);

// Drops the layout copies of views that overlap [p, p + bytes) (host memory freed or written).
void forget_weights(const void* p, size_t bytes);

// The calling thread's CPU GEMM arithmetic: true for bf16 (dd_set_gemm_precision on the CPU).
bool thread_uses_bf16();

// bf16 activations (linears, attention, sliced ops, GELU) need the bf16 GEMM precision: DD_OK when `bf16` is false or
// the thread computes in bf16, else DD_ERR_DTYPE naming the op and tensor.
dd_status require_bf16_precision(const char* op, const char* tensor, bool bf16);

// y[m, :] = gelu_tanh(y[m, :]) over M rows of N f32 values (row stride ld), in place, in dd_gelu_tanh's chunks: the
// fused forms' GELU, bit for bit the separate op's (linear_ops.cpp).
dd_status gelu_rows(float* y, int64_t ld, int64_t M, int64_t N);
dd_status set_thread_precision(int precision);

// Whether this CPU runs bf16 matmuls natively (AVX512_BF16 or AMX); the CPU's features otherwise.
bool bf16_supported();

// oneDNN's version, CPU ISA and the kernel it picks for an M x N x K matmul (fp32 or bf16), for reports.
std::string engine_info();
std::string matmul_impl(int64_t M, int64_t N, int64_t K, bool bf16);

}  // namespace dd::cpu
