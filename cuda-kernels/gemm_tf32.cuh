// y[m, :] = x[m, :] W^T + bias (PyTorch Linear, fp32 in / out) on TF32 tensor cores (mma.sync m16n8k8,
// fp32 accumulation) or plain fp32 FMAs, with fused epilogues and the width-sliced forms of
// dd_linear_out_blocks / dd_linear_in_blocks (weights read in place).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// kBf16: operands rounded to bf16 (round to nearest even) on bf16 tensor cores (m16n8k16), fp32 sums.
enum class GemmPrecision { kTf32, kFp32, kBf16 };

// Which kernel: kAuto takes the 128x256 / 128x128 multistage cp.async kernel when its 16-byte copies are aligned
// (tf32 / bf16; x, W 16-B aligned, row strides and input blocks in multiples of 4 floats) and its wide tiles pad
// the output by at most 25% more than 64x64 tiles (in bf16 with LinearArgs::w16: the bf16-weight kernel of the
// same tiles), else the 64x64 kernel;
// kTile64 forces the 64x64 kernel (the cost model's "before").
enum class GemmPath { kAuto, kTile64 };

enum class GemmEpilogue {
    kStore,          // y = acc + bias
    kGeluTanh,       // y = gelu_tanh(acc + bias)
    kGatedResidual,  // y += g * (acc + bias), g = gate[sample(m) * gate_rs + n] (1 when gate is null)
};

// Row-major fp32 operands with element row strides; W is [N][K] (rows of w_rs elements). bias is
// indexed by W's row (null: none). y must not overlap x or W (x / y may be bf16 instead: x16 / y16 below).
struct LinearArgs {
    const float* x; int64_t x_rs;
    const float* w; int64_t w_rs;
    const float* bias;
    float* y; int64_t y_rs;
    int M;
    GemmEpilogue epilogue = GemmEpilogue::kStore;
    // kGatedResidual: sample(m) = row_sample ? row_sample[m] : m / rows_per_sample (device row_sample).
    const float* gate = nullptr; int64_t gate_rs = 0;
    const int32_t* row_sample = nullptr;
    int rows_per_sample = 1;
    GemmPrecision precision = GemmPrecision::kTf32;
    GemmPath path = GemmPath::kAuto;
    // kBf16: W as bf16 values (same [N][K] layout, rows of w16_rs values), or null. With it the bf16-weight
    // kernel runs (gemm_bf16_weights.cuh: W moves half the bytes; x is rounded on its way into shared
    // memory) when w16 is 16-B aligned, w16_rs and every input block's start are multiples of 8 and x meets
    // the multistage kernel's alignment; otherwise W is read from w.
    const uint16_t* w16 = nullptr; int64_t w16_rs = 0;
    // kBf16 only: bf16 activations. x16 replaces x (same row stride x_rs, in values): the bf16-weight kernel copies
    // it by 16-B cp.async straight into its bf16 tiles (x16 16-B aligned, x_rs and input segment starts multiples
    // of 8), the 64x64 kernel widens it on load. y16 replaces y: the fp32 result after the epilogue rounded to bf16
    // once (nearest even); not with kGatedResidual (the residual stream stays fp32). The few-row and fp32-operand
    // multistage kernels take neither.
    const uint16_t* x16 = nullptr;
    uint16_t* y16 = nullptr;
};

// Maximum number of (start, length) blocks of the sliced forms (they travel in the kernel parameters).
constexpr int kLinearMaxBlocks = 64;

// y[m, n] = x[m, :K] . W[n, :K] + bias[n], n < N.
cudaError_t linear(const LinearArgs& a, int N, int K, cudaStream_t stream);

// blocks: host array of nblocks (start, length) pairs of rows of W [N][K]; y receives them back to back:
// y[m, off_b + j] = x[m, :K] . W[start_b + j, :] + bias[start_b + j].
cudaError_t linear_out_blocks(const LinearArgs& a, const int64_t* blocks, int nblocks, int N, int K,
                              cudaStream_t stream);

// blocks: host array of (start, length) pairs of columns of W [N][K]; x holds those columns back to back:
// y[m, n] = bias[n] + sum_b x[m, off_b : off_b + len_b] . W[n, start_b : start_b + len_b] (bias alone
// when nblocks == 0).
cudaError_t linear_in_blocks(const LinearArgs& a, const int64_t* blocks, int nblocks, int N, int K,
                             cudaStream_t stream);

}  // namespace dd::cuda_kernels
