// FlashAttention-2-style attention on bf16 tensor cores with bf16 q / k / v / o in memory
// (attention_flash2_bf16.cu): the bf16-activation path of attention_varlen.
#pragma once
#include <cuda_runtime.h>

#include "attention_varlen.cuh"

namespace dd::cuda_kernels {

// Whether the kernel takes these bf16 operands (AttentionVarlenArgs::q16 ...): q16 / k16 / v16 16-B aligned with
// strides in multiples of 8 values (16-B cp.async), o16 4-B aligned with even strides (bf16x2 stores).
bool attention_flash2_bf16_takes(const AttentionVarlenArgs& args);

// cudaErrorInvalidValue for bad sizes / null pointers, fp32 operands or operands it does not take; otherwise the
// launch's status. Query tiles of kFlash2QueryTile (128) rows.
cudaError_t attention_flash2_bf16(const AttentionVarlenArgs& args, cudaStream_t stream);

}  // namespace dd::cuda_kernels
