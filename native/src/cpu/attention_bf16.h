// The CPU's bf16 attention (attention_bf16.cpp): what dd_attention and dd_attention_varlen run when the calling
// thread's GEMM precision is bf16.
#pragma once
#include "../core/backend.h"

namespace dd::cpu {

dd_status attention_bf16(const AttentionParams& p);  // p.Tk > 0
dd_status attention_varlen_bf16(const AttentionVarlenParams& p);

}  // namespace dd::cpu
