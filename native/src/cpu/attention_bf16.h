// The CPU's bf16 attention (attention_bf16.cpp): what dd_attention and dd_attention_varlen run when the calling
// thread's GEMM precision is bf16, on f32 or bf16 operands (AttentionParams::q16 ...).
#pragma once
#include "../core/backend.h"

namespace dd::cpu {

// Below ~128 x 128 scores a head oneDNN's per-call cost outweighs the bf16 products (2 threads, 8 samples x 12 heads
// x 64: 64 tokens 0.91 ms bf16 vs 0.69 ms fp32, 128 tokens 1.71 vs 2.47, 256 tokens 4.06 vs 8.26): the fp32 kernel
// runs those (varlen: by its longest sequence), in bf16 on the operands' bf16 values (attention_small_bf16).
inline bool bf16_attention_pays(int64_t Tq, int64_t Tk) { return Tq * Tk >= 128 * 128; }

dd_status attention_bf16(const AttentionParams& p);  // p.Tk > 0
dd_status attention_varlen_bf16(const AttentionVarlenParams& p);

// Heads below bf16_attention_pays in bf16: q, k, v as f32 copies of their bf16 values (f32 operands rounded to
// nearest even, bf16 ones widened), `f32_attention` (the fp32 kernel) on those, a bf16 out its result rounded once.
// The same values as f32 or as bf16 operands give the same bits.
dd_status attention_small_bf16(const AttentionParams& p, dd_status (*f32_attention)(const AttentionParams&));
dd_status attention_varlen_small_bf16(const AttentionVarlenParams& p,
                                      dd_status (*f32_attention)(const AttentionVarlenParams&));

}  // namespace dd::cpu
