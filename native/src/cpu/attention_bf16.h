// The CPU's bf16 attention (attention_bf16.cpp): what dd_attention and dd_attention_varlen run when the calling
// thread's GEMM precision is bf16, on f32 or bf16 operands (AttentionParams::q16 ...), at every size: with several
// heads a matmul call it beats the fp32 kernel down to tiny heads (dyndit_bench, 2 threads, 8 samples x 12 heads x 64,
// bf16 operands: 16 tokens 0.060 ms, 64 tokens 0.22-0.25 ms vs 0.79-0.81 ms for the fp32 kernel on f32 ones).
#pragma once
#include "../core/backend.h"

namespace dd::cpu {

dd_status attention_bf16(const AttentionParams& p);  // p.Tk > 0
dd_status attention_varlen_bf16(const AttentionVarlenParams& p, int64_t longest);  // longest: its longest sequence

}  // namespace dd::cpu
