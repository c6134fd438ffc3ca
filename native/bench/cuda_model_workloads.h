// The kernel launches the cost model prices (cuda_model.h), counted by running them under the SIMT emulator
// with sampled blocks (simt/emu_counters.h): one GEMM alone, or one DiT forward as the CUDA backend runs it
// (java/io/dyndit/model/ForwardPass.java: every block's adaLN as one GEMV, then per block two LayerNorm-modulates, the qkv / proj /
// fc1 / fc2 linears (GELU and the two gated residual adds in their epilogues, or separate), attention; the embedders and the final layer once).
// Launches of identical shape are counted once and multiplied by their calls per forward. Omitted as
// negligible (< 0.1% of the bytes at DiT-XL/2): patchify, unpatchify, the position-embedding add, the
// timestep embedding and the label gather.
#pragma once
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_model.h"
#include "gemm_tf32.cuh"

namespace dd::cuda_model {

struct DitConfig {
    const char* name;
    int hidden, depth, heads;
};
// DiT-XL/2, DiT-L/2, DiT-B/2, DiT-S/2 (patch 2, 32x32x4 latents: 256 tokens); null for another name.
const DitConfig* dit_config(const std::string& name);

// The GEMM kernels modeled: what the backend picks (bf16: weights stored bf16, LinearArgs::w16), the same
// with bf16 weights read as fp32 (the fp32-operand multistage kernel), or the 64x64 kernel alone (the "before").
enum class GemmKernels { kAuto, kFp32Operands, kTile64 };

// The tensor-core attention modeled: what attention_varlen picks for fp32 operands (attention_flash2 for the
// forward's packed qkv views), attention_tc (the kernel before it), or attention_flash2_bf16 on bf16 operands (in a
// forward: bf16 activations throughout, qkv / attn / the MLP hidden, as the CUDA forward in bf16 precision).
enum class AttentionKernel { kAuto, kTc, kBf16 };

// Throws std::runtime_error naming the kernel when a launch fails.
// bf16_activations: x and y bf16 (LinearArgs::x16 / y16; bf16 precision).
Workload gemm_workload(int M, int N, int K, dd::cuda_kernels::GemmPrecision precision, GemmKernels kernels,
                       bool bf16_activations, const std::string& label, int calls);
// Dense attention of S sequences of T tokens, H heads of Dh, q / k / v views of one packed [S, T, 3, H, Dh]
// qkv buffer (as the DiT's qkv linear writes it), out [S, T, H, Dh]; fp32, or bf16 with AttentionKernel::kBf16.
Workload attention_workload(int S, int T, int H, int Dh, AttentionKernel kernel, const std::string& label, int calls);
// fused: GELU and the gated residual adds in the GEMM epilogues (the forward today); false: separate kernels.
// attention kBf16: bf16 activations (bf16 precision and fused only; std::runtime_error otherwise).
std::vector<Workload> dit_forward(const DitConfig& cfg, int batch, bool cfg_doubling,
                                  dd::cuda_kernels::GemmPrecision precision, GemmKernels kernels, bool fused,
                                  AttentionKernel attention = AttentionKernel::kAuto);

}  // namespace dd::cuda_model
