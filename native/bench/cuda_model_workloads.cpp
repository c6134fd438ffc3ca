// Workloads of the cost model (cuda_model_workloads.h), counted under the SIMT emulator.
#include "simt/dd_cuda.h"  // first: the emulator's CUDA keywords and runtime

#include "cuda_model_workloads.h"

#include <cmath>
#include <memory>

#include "activations.cuh"
#include "attention_flash2.cuh"
#include "attention_flash2_bf16.cuh"
#include "attention_varlen.cuh"
#include "gated_residual.cuh"
#include "layernorm_modulate.cuh"

namespace ck = dd::cuda_kernels;
namespace emu = dd::simt::emu;

namespace dd::cuda_model {
namespace {

// Emulator "device" buffer; never filled: sampled launches only count (their results are incomplete anyway).
struct Buf {
    float* p = nullptr;
    explicit Buf(size_t n) {
        if (cudaMalloc(reinterpret_cast<void**>(&p), n * sizeof(float)) != cudaSuccess)
            throw std::runtime_error("cannot allocate " + std::to_string(n * sizeof(float)) + " bytes");
    }
    ~Buf() { cudaFree(p); }
    Buf(const Buf&) = delete;
    Buf& operator=(const Buf&) = delete;
};

// Runs launch() with sampled counting; its single launch becomes the workload.
template <class Fn>
Workload counted(const std::string& label, int calls, double dram_bytes, Fn launch) {
    emu::counting_start(true);
    const cudaError_t e = launch();
    std::vector<emu::LaunchRecord> rec = emu::counting_stop();
    if (e != cudaSuccess) throw std::runtime_error(label + ": " + dd::simt::error_detail(e));
    if (rec.size() != 1)
        throw std::runtime_error(label + ": expected one kernel launch, counted " + std::to_string(rec.size()));
    Workload w;
    w.label = label;
    w.calls = calls;
    w.dram_bytes = dram_bytes;
    w.launch = std::move(rec[0]);
    return w;
}

// bf16 views of the (never filled) model buffers: the bf16 activations' bytes.
const uint16_t* as16(const float* p) { return reinterpret_cast<const uint16_t*>(p); }
uint16_t* as16(float* p) { return reinterpret_cast<uint16_t*>(p); }

// What a linear reads and writes as bf16 (LinearArgs::x16 / y16; bf16 precision only).
struct Bf16Io {
    bool x = false, y = false;
};

// wt16: the bf16 copy of the weights (LinearArgs::w16), used in bf16 with GemmKernels::kAuto. epilogue: as the
// backend's dd_linear_gelu / dd_linear_gated_residual (gate rows of `gate_rs`, rows_per_sample rows per sample).
Workload linear_on(const float* x, const float* wt, const uint16_t* wt16, const float* bias, float* y, int M, int N,
                   int K, ck::GemmPrecision precision, GemmKernels kernels, const std::string& label, int calls,
                   ck::GemmEpilogue epilogue = ck::GemmEpilogue::kStore, const float* gate = nullptr,
                   int64_t gate_rs = 0, int rows_per_sample = 1, Bf16Io io = {}) {
    ck::LinearArgs a;
    a.epilogue = epilogue;
    a.gate = gate;
    a.gate_rs = gate_rs;
    a.rows_per_sample = rows_per_sample;
    a.x = x; a.x_rs = K;
    a.w = wt; a.w_rs = K;
    a.bias = bias;
    a.y = y; a.y_rs = N;
    a.M = M;
    a.precision = precision;
    a.path = kernels == GemmKernels::kTile64 ? ck::GemmPath::kTile64 : ck::GemmPath::kAuto;
    const bool w16 = precision == ck::GemmPrecision::kBf16 && kernels == GemmKernels::kAuto;
    if (w16) {
        a.w16 = wt16;
        a.w16_rs = K;
    }
    if (io.x) a.x = nullptr, a.x16 = as16(x);
    if (io.y) a.y = nullptr, a.y16 = as16(y);
    const double y_passes = epilogue == ck::GemmEpilogue::kGatedResidual ? 2.0 : 1.0;  // the residual is read too
    Workload wl = counted(label, calls, 0, [&] { return ck::linear(a, N, K, 0); });
    // W as bf16 only when the kernel picked is the bf16-weight one (the few-row kernel reads fp32 W).
    const bool w_bf16 = w16 && wl.launch.kernel.find("linear_w16_kernel") != std::string::npos;
    wl.dram_bytes = (io.x ? 2.0 : 4.0) * M * K + (io.y ? 2.0 : 4.0) * y_passes * M * N + 4.0 * (bias ? N : 0) +
                    (w_bf16 ? 2.0 : 4.0) * ((double)N * K);
    return wl;
}

}  // namespace

const DitConfig* dit_config(const std::string& name) {
    static const DitConfig configs[] = {
        {"DiT-XL/2", 1152, 28, 16}, {"DiT-L/2", 1024, 24, 16}, {"DiT-B/2", 768, 12, 12}, {"DiT-S/2", 384, 12, 6}};
    for (const DitConfig& c : configs)
        if (name == c.name) return &c;
    return nullptr;
}

Workload gemm_workload(int M, int N, int K, ck::GemmPrecision precision, GemmKernels kernels, bool bf16_activations,
                       const std::string& label, int calls) {
    Buf x((size_t)M * K), w((size_t)N * K), y((size_t)M * N);
    return linear_on(x.p, w.p, reinterpret_cast<const uint16_t*>(w.p), nullptr, y.p, M, N, K, precision, kernels,
                     label, calls, ck::GemmEpilogue::kStore, nullptr, 0, 1, {bf16_activations, bf16_activations});
}

Workload attention_workload(int S, int T, int H, int Dh, AttentionKernel kernel, const std::string& label, int calls) {
    const int64_t M = (int64_t)S * T, D = (int64_t)H * Dh;
    Buf qkv((size_t)(M * 3 * D)), out((size_t)(M * D));
    if (kernel == AttentionKernel::kBf16) {  // q, k, v views of a bf16 [S, T, 3, H, Dh] qkv, bf16 out
        return counted(label + " (attention_flash2_bf16)", calls, 2.0 * 4 * M * D, [&] {
            ck::AttentionVarlenArgs a{};
            const uint16_t* q = as16(qkv.p);
            a.q16 = q; a.q_sn = (int64_t)T * 3 * D; a.q_st = 3 * D; a.q_sh = Dh;
            a.k16 = q + D; a.k_sn = a.q_sn; a.k_st = a.q_st; a.k_sh = Dh;
            a.v16 = q + 2 * D; a.v_sn = a.q_sn; a.v_st = a.q_st; a.v_sh = Dh;
            a.o16 = as16(out.p); a.o_sn = (int64_t)T * D; a.o_st = D; a.o_sh = Dh;
            a.B = S; a.R = (int)M; a.T = T; a.H = H; a.Dh = Dh;
            a.scale = 1.0f / std::sqrt((float)Dh);
            a.tensor_cores = true;
            if (!ck::attention_flash2_bf16_takes(a))
                throw std::runtime_error(label + ": attention_flash2_bf16 refuses the operands");
            return ck::attention_varlen(a, 0);
        });
    }
    const std::string name = label + (kernel == AttentionKernel::kTc ? " (attention_tc)" : " (attention_flash2)");
    return counted(name, calls, 4.0 * 4 * M * D, [&] {
        ck::AttentionVarlenArgs a{};
        a.q = qkv.p; a.q_sn = (int64_t)T * 3 * D; a.q_st = 3 * D; a.q_sh = Dh;
        a.k = qkv.p + D; a.k_sn = a.q_sn; a.k_st = a.q_st; a.k_sh = Dh;
        a.v = qkv.p + 2 * D; a.v_sn = a.q_sn; a.v_st = a.q_st; a.v_sh = Dh;
        a.o = out.p; a.o_sn = (int64_t)T * D; a.o_st = D; a.o_sh = Dh;
        a.B = S; a.R = (int)M; a.T = T; a.H = H; a.Dh = Dh;
        a.scale = 1.0f / std::sqrt((float)Dh);
        a.tensor_cores = true;  // as the backend for TF32 / BF16 models
        if (kernel == AttentionKernel::kTc) return ck::attention_tc(a, 0);
        if (!ck::attention_flash2_takes(a)) throw std::runtime_error(label + ": attention_flash2 refuses the operands");
        return ck::attention_varlen(a, 0);
    });
}

std::vector<Workload> dit_forward(const DitConfig& c, int batch, bool cfg_doubling, ck::GemmPrecision precision,
                                  GemmKernels kernels, bool fused, AttentionKernel attention) {
    // bf16 activations (attention_flash2_bf16 modeled): qkv, attn and the MLP hidden are bf16 buffers, as the
    // forward keeps them on CUDA in bf16 precision (ForwardPass, fused full-width path)
    const bool b16 = attention == AttentionKernel::kBf16;
    if (b16 && (precision != ck::GemmPrecision::kBf16 || !fused))
        throw std::runtime_error("bf16 activations need the bf16 precision and the fused epilogues");
    const int S = batch * (cfg_doubling ? 2 : 1), T = 256, D = c.hidden, L = c.depth, Dh = D / c.heads;
    const int M = S * T, patch_in = 2 * 2 * 4, patch_out = 2 * 2 * 8;
    Buf h((size_t)M * D), u((size_t)M * D), qkv((size_t)M * 3 * D), attn((size_t)M * D), proj((size_t)M * D),
        fc1((size_t)M * 4 * D), patches((size_t)M * patch_in), out((size_t)M * patch_out);
    Buf cond((size_t)S * D), ada((size_t)S * 6 * D), tfreq((size_t)S * 256), w((size_t)4 * D * D + 6 * D * D),
        bias((size_t)6 * D);
    std::vector<Workload> ws;
    auto lin = [&](const float* x, float* y, int m, int n, int k, const char* label, int calls,
                   ck::GemmEpilogue epi = ck::GemmEpilogue::kStore, const float* gate = nullptr, Bf16Io io = {}) {
        ws.push_back(linear_on(x, w.p, reinterpret_cast<const uint16_t*>(w.p), bias.p, y, m, n, k, precision, kernels,
                               label, calls, epi, gate, 6 * D, T, io));
    };
    // embedders (once)
    lin(patches.p, h.p, M, D, patch_in, "linear patch embed", 1);
    lin(tfreq.p, cond.p, S, D, 256, "linear t_embed 0", 1);
    lin(cond.p, u.p, S, D, D, "linear t_embed 2", 1);
    ws.push_back(counted("silu c", 2, 4.0 * 2 * S * D, [&] { return ck::silu(cond.p, cond.p, (int64_t)S * D, 0); }));
    // blocks
    {  // every block's adaLN in one GEMV (weights stored back to back: DiTWeights.adaAllW)
        Buf ada_all((size_t)S * L * 6 * D), ada_w((size_t)L * 6 * D * D), ada_b((size_t)L * 6 * D);
        ws.push_back(linear_on(cond.p, ada_w.p, reinterpret_cast<const uint16_t*>(ada_w.p), ada_b.p, ada_all.p, S,
                               L * 6 * D, D, precision, kernels, "linear adaLN, all blocks", 1));
    }
    ws.push_back(counted("layernorm_modulate", 2 * L, 4.0 * (2.0 * M * D + 2.0 * S * D), [&] {
        return ck::layernorm_modulate(h.p, (int64_t)T * D, D, u.p, (int64_t)T * D, D, ada.p, 6 * D, ada.p + D, 6 * D,
                                      S, T, D, 1e-6f, 0);
    }));
    lin(u.p, qkv.p, M, 3 * D, D, b16 ? "linear qkv (bf16 y)" : "linear qkv", L, ck::GemmEpilogue::kStore, nullptr,
        {false, b16});
    ws.push_back(attention_workload(S, T, c.heads, Dh, attention, "attention", L));
    // proj and fc2 add their gated residual into h, fc1 applies GELU, in the GEMM's epilogue (dd_linear_gelu,
    // dd_linear_gated_residual: the forward with no observer); the separate kernels only with --unfused.
    if (fused) {
        lin(attn.p, h.p, M, D, D, b16 ? "linear proj + gated residual (bf16 x)" : "linear proj + gated residual", L,
            ck::GemmEpilogue::kGatedResidual, ada.p + 2 * D, {b16, false});
        lin(u.p, fc1.p, M, 4 * D, D, b16 ? "linear fc1 + gelu (bf16 y)" : "linear fc1 + gelu", L,
            ck::GemmEpilogue::kGeluTanh, nullptr, {false, b16});
        lin(fc1.p, h.p, M, D, 4 * D, b16 ? "linear fc2 + gated residual (bf16 x)" : "linear fc2 + gated residual", L,
            ck::GemmEpilogue::kGatedResidual, ada.p + 5 * D, {b16, false});
    } else {
        lin(attn.p, proj.p, M, D, D, "linear proj", L);
        ws.push_back(counted("gated_residual_add", 2 * L, 4.0 * 3 * M * D, [&] {
            return ck::gated_residual_add(h.p, (int64_t)T * D, D, proj.p, (int64_t)T * D, D, ada.p + 2 * D, 6 * D, S,
                                          T, D, 0);
        }));
        lin(u.p, fc1.p, M, 4 * D, D, "linear fc1", L);
        ws.push_back(counted("gelu_tanh", L, 4.0 * 2 * M * 4 * D,
                             [&] { return ck::gelu_tanh(fc1.p, fc1.p, (int64_t)M * 4 * D, 0); }));
        lin(fc1.p, proj.p, M, D, 4 * D, "linear fc2", L);
    }
    // final layer
    lin(cond.p, ada.p, S, 2 * D, D, "linear final adaLN", 1);
    lin(u.p, out.p, M, patch_out, D, "linear final", 1);
    return ws;
}

}  // namespace dd::cuda_model
