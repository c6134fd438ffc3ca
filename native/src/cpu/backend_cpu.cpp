// The CPU backend: threading (OpenMP) and strides here; inner loops from the ISA-dispatched kernel
// set; matrix products through oneDNN (gemm.cpp).
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include "../core/backend.h"
#include "attention_bf16.h"
#include "cpu_kernels.h"
#include "gemm.h"
#include "cpu_threads.h"

namespace dd::cpu {

// OpenMP keeps the team size per calling thread: dd_set_num_threads records it process-wide and every op applies it
// to its calling thread, so a setting made on one thread governs the ops of all threads.
std::atomic<int> g_threads{0};  // 0: OpenMP's default (OMP_NUM_THREADS or the cores)

void apply_thread_count() {
    const int t = g_threads.load(std::memory_order_relaxed);
    if (t > 0 && omp_get_max_threads() != t) omp_set_num_threads(t);
}

namespace {
dd_status use_cpu(int) {
    apply_thread_count();
    return DD_OK;
}
}  // namespace

// layout_ops.cpp
dd_status patchify(const PatchParams& p);
dd_status unpatchify(const PatchParams& p);
dd_status timestep_embedding(const TimestepEmbeddingParams& p);
dd_status add_broadcast(const AddBroadcastParams& p);

// linear_ops.cpp
dd_status linear(const LinearParams& p);
dd_status linear_epilogue(const LinearEpilogueParams& e);
dd_status linear_row_invariant(const LinearParams& p);

// sliced_ops.cpp
dd_status linear_out_blocks(const BlockLinearParams& p);
dd_status linear_out_blocks_gelu(const BlockLinearParams& p);
dd_status linear_in_blocks(const BlockLinearParams& p);
dd_status linear_in_blocks_gated_residual(const BlockLinearParams& p);
dd_status layernorm_modulate_rows(const LayerNormRowsParams& p);
dd_status select_tokens(const SelectTokensParams& p);
dd_status relu(const UnaryParams& p);

// topk_ops.cpp
dd_status topk_rows(const TopkRowsParams& p);
dd_status scatter_rows(const ScatterAddRowsParams& p);
dd_status scale_rows(const ScaleRowsParams& p);
dd_status sigmoid(const UnaryParams& p);

// attention_mass.cpp
dd_status attention_key_mass(const AttentionKeyMassParams& p);
dd_status attention_with_key_mass(const AttentionParams& p, float* mass);

// sampler_ops.cpp
dd_status ddpm_update(const SamplerStepParams& p);
dd_status ddim_update(const SamplerStepParams& p);
dd_status dpm_update(const DpmStepParams& p);
dd_status cfg_combine(const CfgCombineParams& p);
dd_status weak_guidance(const WeakGuidanceParams& p);

namespace {

// Splits `n` items over threads only when there is enough work to pay for the fork.
inline bool worth_threads(int64_t work) { return work >= (1 << 15); }


// A bf16 y is the f32 row rounded once (as round_bf16): the values a linear's f32 -> bf16 reorder of the f32 y gives.
dd_status layernorm_modulate(const LayerNormModulateParams& p) {
    const Kernels& k = kernels();
#pragma omp parallel for collapse(2) if (worth_threads(p.N * p.T * p.D))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t t = 0; t < p.T; ++t) {
            const float* x = p.x + n * p.x_sn + t * p.x_st;
            if (t + 1 < p.T)  // the next row, while this one is reduced: 263 -> 235 us at DiT-B/2 b8 into bf16
                for (int64_t i = 0; i < p.D; i += 16) __builtin_prefetch(x + p.x_st + i);
            const float* shift = p.shift ? p.shift + n * p.shift_sn : nullptr;
            const float* scale = p.scale ? p.scale + n * p.scale_sn : nullptr;
            if (p.y_bf16)
                k.layernorm_modulate_row_bf16(x, p.y_bf16 + n * p.y_sn + t * p.y_st, shift, scale, p.D, p.eps);
            else
                k.layernorm_modulate_row(x, p.y + n * p.y_sn + t * p.y_st, shift, scale, p.D, p.eps);
        }
    return DD_OK;
}

template <void (*Kernels::*Fn)(const float*, float*, int64_t)>
dd_status unary(const UnaryParams& p) {
    const Kernels& k = kernels();
    const int64_t chunk = 4096;
    const int64_t chunks = (p.n + chunk - 1) / chunk;
#pragma omp parallel for if (worth_threads(p.n))
    for (int64_t c = 0; c < chunks; ++c) {
        int64_t a = c * chunk;
        (k.*Fn)(p.x + a, p.y + a, std::min(chunk, p.n - a));
    }
    return DD_OK;
}

// bf16 x and y (bf16 GEMM precision only: the kernel is AVX512_BF16's): y = x, then the GELU in place on y.
dd_status gelu_tanh(const UnaryParams& p) {
    if (!p.x16) return unary<&Kernels::gelu_tanh>(p);
    if (dd_status s = require_bf16_precision("dd_gelu_tanh", "x", true)) return s;
    const Kernels& k = kernels();
    const int64_t chunk = 4096, chunks = (p.n + chunk - 1) / chunk;
#pragma omp parallel for if (worth_threads(p.n))
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t a = c * chunk, len = std::min(chunk, p.n - a);
        if (p.y16 != p.x16) std::memcpy(p.y16 + a, p.x16 + a, size_t(len) * 2);
        k.gelu_tanh_bf16(p.y16 + a, len);
    }
    return DD_OK;
}

dd_status gated_residual_add(const GatedResidualParams& p) {
    const Kernels& k = kernels();
#pragma omp parallel for collapse(2) if (worth_threads(p.N * p.T * p.D))
    for (int64_t n = 0; n < p.N; ++n)
        for (int64_t t = 0; t < p.T; ++t)
            k.gated_add_row(p.h + n * p.h_sn + t * p.h_st, p.x + n * p.x_sn + t * p.x_st,
                            p.gate ? p.gate + n * p.gate_sn : nullptr, p.D);
    return DD_OK;
}

// The fp32 kernel: heads in parallel, each the ISA's register-blocked attention kernel with a per-thread scratch
// buffer that only grows (no allocation once shapes are steady).
dd_status attention_f32(const AttentionParams& p) {
    const Kernels& k = kernels();
    const int64_t need = k.attention_scratch_floats(p.Tk, p.Dh);
    static thread_local std::vector<float> scratch;
#pragma omp parallel
    {
        if ((int64_t)scratch.size() < need) scratch.resize(need);
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t n = 0; n < p.N; ++n)
            for (int64_t h = 0; h < p.H; ++h) {
                AttentionHead a{p.q + n * p.q_sn + h * p.q_sh, p.q_st, p.k + n * p.k_sn + h * p.k_sh, p.k_st,
                                p.v + n * p.v_sn + h * p.v_sh, p.v_st, p.o + n * p.o_sn + h * p.o_sh, p.o_st,
                                p.Tk, p.Dh, p.scale, scratch.data(), p.T};
                k.attention_head(a);
            }
    }
    return DD_OK;
}

// fp32: the fp32 kernel. bf16 (f32 or bf16 operands): oneDNN bf16 matmuls (attention_bf16.cpp).
dd_status attention(const AttentionParams& p) {
    const bool b16 = p.q16 != nullptr;
    if (dd_status s = require_bf16_precision("dd_attention", "q", b16)) return s;
    if (p.T == 0 || p.Dh == 0 || p.N == 0 || p.H == 0) return DD_OK;
    if (p.Tk == 0) {  // no keys: an empty softmax; defined as zeros
        const size_t row = size_t(p.Dh) * (b16 ? 2 : 4);
        for (int64_t n = 0; n < p.N; ++n)
            for (int64_t t = 0; t < p.T; ++t)
                for (int64_t h = 0; h < p.H; ++h) {
                    const int64_t at = n * p.o_sn + t * p.o_st + h * p.o_sh;
                    std::memset(b16 ? static_cast<void*>(p.o16 + at) : static_cast<void*>(p.o + at), 0, row);
                }
        return DD_OK;
    }
    return thread_uses_bf16() ? attention_bf16(p) : attention_f32(p);
}

// Each (sequence, head) pair is one attention_head call over that sequence's rows (`longest` the longest's length).
dd_status attention_varlen_f32(const AttentionVarlenParams& p, int64_t longest) {
    const Kernels& k = kernels();
    const int64_t need = k.attention_scratch_floats(longest, p.Dh);
    static thread_local std::vector<float> scratch;
#pragma omp parallel
    {
        if ((int64_t)scratch.size() < need) scratch.resize(need);
#pragma omp for collapse(2) schedule(dynamic)
        for (int64_t b = 0; b < p.B; ++b)
            for (int64_t h = 0; h < p.H; ++h) {
                const int64_t r0 = p.cu_seqlens[b], len = p.cu_seqlens[b + 1] - r0;
                if (len == 0) continue;
                AttentionHead a{p.q + r0 * p.q_st + h * p.q_sh, p.q_st, p.k + r0 * p.k_st + h * p.k_sh, p.k_st,
                                p.v + r0 * p.v_st + h * p.v_sh, p.v_st, p.o + r0 * p.o_st + h * p.o_sh, p.o_st,
                                len, p.Dh, p.scale, scratch.data(), len};
                k.attention_head(a);
            }
    }
    return DD_OK;
}

// As attention, by the longest sequence.
dd_status attention_varlen(const AttentionVarlenParams& p) {
    const bool b16 = p.q16 != nullptr;
    if (dd_status s = require_bf16_precision("dd_attention_varlen", "q", b16)) return s;
    int64_t longest = 0;
    for (int64_t b = 0; b < p.B; ++b) longest = std::max<int64_t>(longest, p.cu_seqlens[b + 1] - p.cu_seqlens[b]);
    if (longest == 0 || p.H == 0 || p.Dh == 0) return DD_OK;
    return thread_uses_bf16() ? attention_varlen_bf16(p, longest) : attention_varlen_f32(p, longest);
}

dd_status gather_rows(const GatherRowsParams& p) {
#pragma omp parallel for if (worth_threads(p.K * p.D))
    for (int64_t i = 0; i < p.K; ++i)
        std::memcpy(p.dst + i * p.dst_rs, p.src + (int64_t)p.index[i] * p.src_rs, sizeof(float) * p.D);
    return DD_OK;
}

// Threads split the columns, so repeated indices never race and each row's additions keep index order.
dd_status scatter_add_rows(const ScatterAddRowsParams& p) {
    const Kernels& k = kernels();
    const int64_t block = 256;
    const int64_t blocks = (p.D + block - 1) / block;
#pragma omp parallel for if (worth_threads(p.K * p.D) && blocks > 1)
    for (int64_t b = 0; b < blocks; ++b) {
        const int64_t c0 = b * block, w = std::min(block, p.D - c0);
        for (int64_t i = 0; i < p.K; ++i)
            k.gated_add_row(p.dst + (int64_t)p.index[i] * p.dst_rs + c0, p.src + i * p.src_rs + c0,
                            p.gate ? p.gate + (int64_t)p.row_sample[i] * p.gate_rs + c0 : nullptr, w);
    }
    return DD_OK;
}

const Backend cpu = {
    "cpu",
    linear,
    layernorm_modulate,
    gelu_tanh,
    unary<&Kernels::silu>,
    gated_residual_add,
    attention,
    gather_rows,
    scatter_add_rows,
    patchify,
    unpatchify,
    timestep_embedding,
    add_broadcast,
    linear_out_blocks,
    linear_in_blocks,
    layernorm_modulate_rows,
    select_tokens,
    relu,
    topk_rows,
    scatter_rows,
    scale_rows,
    sigmoid,
    attention_varlen,
    set_thread_precision,  // fp32 (tf32 too) or bf16, per calling thread
    nullptr, nullptr, nullptr, nullptr,  // graphs: a CUDA feature
    ddpm_update,
    ddim_update,
    cfg_combine,
    weak_guidance,
    dpm_update,
    use_cpu,  // use_device: one CPU; applies the thread count
    attention_key_mass,
    linear_epilogue,
    attention_with_key_mass,
    true,  // linear_bf16_io
    true,  // layernorm_bf16_out
    true,  // attention_bf16_io: in the bf16 GEMM precision
    true,  // sliced_bf16_io: in the bf16 GEMM precision
    linear_out_blocks_gelu,
    linear_in_blocks_gated_residual,
    linear_row_invariant,
};

}  // namespace
}  // namespace dd::cpu

const dd::Backend* dd::cpu_backend() {
    return &dd::cpu::cpu;
}
