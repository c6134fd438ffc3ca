// The CPU's bf16 attention (attention_bf16.cpp): what dd_attention and dd_attention_varlen run when the calling
// thread's GEMM precision is bf16.
#pragma once
#include "../core/backend.h"

namespace dd::cpu {

// Below ~128 x 128 scores a head oneDNN's per-call cost outweighs the bf16 products (2 threads, 8 samples x 12 heads
// x 64: 64 tokens 0.91 ms bf16 vs 0.69 ms fp32, 128 tokens 1.71 vs 2.47, 256 tokens 4.06 vs 8.26): the fp32 kernel
// runs those in every precision (varlen: by its longest sequence).
inline bool bf16_attention_pays(int64_t Tq, int64_t Tk) { return Tq * Tk >= 128 * 128; }

dd_status attention_bf16(const AttentionParams& p);  // p.Tk > 0
dd_status attention_varlen_bf16(const AttentionVarlenParams& p);

}  // namespace dd::cpu
