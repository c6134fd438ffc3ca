// The CPU backend's dense linears: dd_linear and its fused forms (dd_linear_gelu, dd_linear_gated_residual) as oneDNN
// matmuls, with bf16 activations in and out in the bf16 GEMM precision.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "../core/backend.h"
#include "../core/error.h"
#include "cpu_kernels.h"
#include "dnnl_util.h"
#include "gemm.h"

namespace dd::cpu {

// In the chunks dd_gelu_tanh uses (backend_cpu.cpp unary): the same elements meet the kernel's vector and tail code.
dd_status gelu_rows(float* y, int64_t ld, int64_t M, int64_t N) {
    const Kernels& k = kernels();
    const bool dense = ld == N || M <= 1;
    const int64_t len = dense ? M * N : N, rows = dense ? 1 : M, chunk = 4096, chunks = (len + chunk - 1) / chunk;
#pragma omp parallel for collapse(2) if (rows * len >= (1 << 15))
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < chunks; ++c) {
            float* p = y + r * ld + c * chunk;
            k.gelu_tanh(p, p, std::min(chunk, len - c * chunk));
        }
    return DD_OK;
}

namespace {

// y = bf16(gelu_tanh(bf16(A B + bias))): the product rounded to bf16 into y (row stride ld) by the matmul, then the
// GELU in fp32 on those values, rounded again in place. Half the bytes of an f32 pre-activation written and read
// back (B/2 b8 fc1: 5.3 ms vs 6.8 ms through an f32 scratch, against 4.4-4.8 ms for the bare product), for one more
// rounding: the pre-activation's, through |gelu'| <= 1.13. fc2 then reads the bf16 hidden as it is.
dd_status gemm_gelu_to_bf16(const char* op, const Gemm& g0, uint16_t* y, int64_t ld) {
    Gemm g = g0;
    g.c = y, g.c_m = ld, g.c_bf16 = true;
    if (dd_status s = gemm(op, g)) return s;
    const Kernels& k = kernels();
#pragma omp parallel for if (g.M * g.N >= (1 << 15))
    for (int64_t r = 0; r < g.M; ++r) k.gelu_tanh_bf16(y + r * ld, g.N);
    return DD_OK;
}

}  // namespace

// The oneDNN matmul of a linear (threaded by oneDNN on this thread's OpenMP team), bias fused; bf16 when the
// calling thread asked for it, with the weights' bf16 copy made once. bf16 activations need that precision.
dd_status linear_gemm(const char* op, const LinearParams& p, Gemm& g) {
    if (dd_status s = require_bf16_precision(op, p.x_bf16 ? "x" : "y", p.x_bf16 || p.y_bf16)) return s;
    g = Gemm{p.x_bf16 ? static_cast<const void*>(p.x_bf16) : p.x, p.x_row_stride, 1, p.w, 1, p.w_row_stride, false,
             p.bias, p.y_bf16 ? static_cast<void*>(p.y_bf16) : p.y, p.y_row_stride, p.M, p.N, p.K, false};
    g.a_bf16 = p.x_bf16 != nullptr;
    g.c_bf16 = p.y_bf16 != nullptr;
    // b stays the f32 weight: packed into bf16 once (fp32 packing measured no faster, 103 to 2048 rows)
    if (thread_uses_bf16()) g.b_bf16 = g.b_pack = true;
    return DD_OK;
}

dd_status linear(const LinearParams& p) {
    Gemm g{};
    if (dd_status s = linear_gemm("dd_linear", p, g)) return s;
    return gemm("dd_linear", g);
}

// dd_linear_gelu / dd_linear_gated_residual: the product, then the CPU's own GELU / gated-add kernels, bit for bit
// dd_linear followed by dd_gelu_tanh / dd_gated_residual_add (so a forward that fuses them equals one that does not:
// step:0 and token:1.0 caching must equal no caching). oneDNN's post-ops were measured and not kept: its GELU-tanh
// made a bf16 fc1 slower than the separate pass on AMX (7.0 vs 6.1 ms at B/2 b8) and was even in fp32; the gated
// residual as binary-multiply + sum post-ops was even in fp32 and rounds differently from the separate add.
dd_status linear_epilogue(const LinearEpilogueParams& e) {
    const char* op = e.epilogue == LinearEpilogue::kGeluTanh ? "dd_linear_gelu" : "dd_linear_gated_residual";
    Gemm g{};
    if (dd_status s = linear_gemm(op, e.lin, g)) return s;
    if (e.epilogue == LinearEpilogue::kGeluTanh) {
        if (e.lin.y_bf16) return gemm_gelu_to_bf16(op, g, e.lin.y_bf16, e.lin.y_row_stride);
        if (dd_status s = gemm(op, g)) return s;
        return gelu_rows(e.lin.y, e.lin.y_row_stride, e.lin.M, e.lin.N);
    }
    thread_local std::vector<float> tmp;  // grows only
    const int64_t M = e.lin.M, N = e.lin.N, T = e.rows_per_sample;
    if ((int64_t)tmp.size() < M * N) tmp.resize(size_t(M * N));
    float* r = tmp.data();  // the calling thread's: OpenMP workers have their own thread_locals
    g.c = r;
    g.c_m = N;
    if (dd_status s = gemm(op, g)) return s;
    const Kernels& k = kernels();
#pragma omp parallel for if (M * N >= (1 << 15))
    for (int64_t m = 0; m < M; ++m)
        k.gated_add_row(e.lin.y + m * e.lin.y_row_stride, r + m * N, e.gate ? e.gate + (m / T) * e.gate_rs : nullptr,
                        N);
    return DD_OK;
}

// Blocks of 64 rows of w split between the threads, each output by the ISA's linear_rows kernel: a row of y never
// depends on M or the thread count (the adaLN conditioning, made for several steps at once or for one, gives the same
// bits). Memory-bound at a few rows, as the GEMV it replaces (DiT-B/2's adaLN: 170 MB of fp32 weights a forward).
dd_status linear_row_invariant(const LinearParams& p) {
    const Kernels& k = kernels();
    const int64_t chunk = 64, chunks = (p.N + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (p.M * p.N * p.K >= (1 << 16))
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t j0 = c * chunk;
        k.linear_rows(p.x, p.x_row_stride, p.M, p.w + j0 * p.w_row_stride, p.w_row_stride, std::min(chunk, p.N - j0),
                      p.K, p.bias ? p.bias + j0 : nullptr, p.y + j0, p.y_row_stride);
    }
    return DD_OK;
}

}  // namespace dd::cpu
