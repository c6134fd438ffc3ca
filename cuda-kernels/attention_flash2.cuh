// FlashAttention-2-style attention on TF32 tensor cores (attention_flash2.cu): the tensor-core path of
// attention_varlen when the operands allow 16-B copies.
#pragma once
#include <cuda_runtime.h>

#include "attention_varlen.cuh"

namespace dd::cuda_kernels {

// Query rows per block (one sequence and one head each), and attention_tc's.
constexpr int kFlash2QueryTile = 128, kTcQueryTile = 64;

// Whether the kernel takes these operands: q / k / v 16-B aligned with strides in multiples of 4 floats (16-B
// cp.async), o 8-B aligned with even strides (float2 stores). attention_varlen runs attention_tc otherwise.
bool attention_flash2_takes(const AttentionVarlenArgs& args);

// cudaErrorInvalidValue for bad sizes / null pointers or operands it does not take; otherwise the launch's status.
cudaError_t attention_flash2(const AttentionVarlenArgs& args, cudaStream_t stream);

}  // namespace dd::cuda_kernels
