// dyndit_cuda_model: modeled time of the CUDA kernels on an A100 / H100 from what the SIMT emulator counts
// (native/bench/cuda_model.h). Modeled, not measured; dyndit_cuda_bench measures on a real GPU.
//   dyndit_cuda_model --arch h100 --model DiT-XL/2 --batch 16 --cfg [--precision tf32|bf16] [--json]
//   dyndit_cuda_model --arch a100 --gemm 8192,4608,1152 --precision bf16 [--json]
//   dyndit_cuda_model --arch h100 --attention 32,256,16,72 [--attention-kernel auto|tc|f32] [--json]
//   --attention-kernel: auto = attention_flash2_bf16 on bf16 activations in bf16 precision (in a forward: qkv,
//   attn and the MLP hidden bf16, as the CUDA forward), attention_flash2 on fp32 ones otherwise; f32 = fp32
//   activations in bf16 precision too (the state before bf16 activations); tc = attention_tc (before attention_flash2);
//   --gemm M,N,K in bf16 takes bf16 x and y unless --attention-kernel f32 / tc (fp32 activations);
//   --gemm-kernel tile64 models every GEMM on the 64x64 kernel (the state before the multistage kernel);
//   --gemm-kernel fp32-operands keeps bf16 GEMMs on fp32 weights (the state before bf16 weight storage);
//   --unfused runs GELU and the gated residual adds as separate kernels (the state before the fused epilogues).
// Exit status: 0 done, 1 a kernel launch failed, 2 usage error.
#include "simt/dd_cuda.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "cuda_model.h"
#include "cuda_model_workloads.h"

#ifndef DD_CUDA_MODEL_PTXAS
#define DD_CUDA_MODEL_PTXAS ""
#endif

namespace cm = dd::cuda_model;
namespace ck = dd::cuda_kernels;

namespace {

int usage(const std::string& why) {
    fprintf(stderr,
            "dyndit_cuda_model: %s\n"
            "usage: dyndit_cuda_model --arch a100|h100 (--model NAME [--batch N] [--cfg] | --gemm M,N,K | --attention S,T,H,Dh)\n"
            "                         [--precision tf32|bf16] [--gemm-kernel auto|fp32-operands|tile64] [--unfused]\n"
            "                         [--attention-kernel auto|tc|f32] [--json] [--ptxas FILE]\n"
            "  models: DiT-XL/2, DiT-L/2, DiT-B/2, DiT-S/2\n",
            why.c_str());
    return 2;
}

bool parse_int(const char* s, int lo, int hi, int* out) {
    char* end = nullptr;
    const long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return false;
    *out = (int)v;
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::string arch, model, precision = "tf32", ptxas_path = DD_CUDA_MODEL_PTXAS, gemm, gemm_kernel = "auto";
    std::string attention, attention_kernel = "auto";
    int batch = 16;
    bool cfg = false, json = false, fused = true;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto value = [&](std::string* out) {
            if (i + 1 >= argc) return false;
            *out = argv[++i];
            return true;
        };
        std::string v;
        if (a == "--arch" && value(&arch)) continue;
        if (a == "--model" && value(&model)) continue;
        if (a == "--precision" && value(&precision)) continue;
        if (a == "--ptxas" && value(&ptxas_path)) continue;
        if (a == "--gemm" && value(&gemm)) continue;
        if (a == "--gemm-kernel" && value(&gemm_kernel)) continue;
        if (a == "--attention" && value(&attention)) continue;
        if (a == "--attention-kernel" && value(&attention_kernel)) continue;
        if (a == "--batch" && value(&v)) {
            if (!parse_int(v.c_str(), 1, 4096, &batch)) return usage("--batch expects 1..4096, got " + v);
            continue;
        }
        if (a == "--cfg") { cfg = true; continue; }
        if (a == "--json") { json = true; continue; }
        if (a == "--unfused") { fused = false; continue; }
        return usage("unknown or incomplete option " + a);
    }
    const cm::Machine* m = cm::machine_by_name(arch);
    if (!m) return usage("--arch expects a100 or h100, got '" + arch + "'");
    ck::GemmPrecision p;
    if (precision == "tf32") p = ck::GemmPrecision::kTf32;
    else if (precision == "bf16") p = ck::GemmPrecision::kBf16;
    else return usage("--precision expects tf32 or bf16, got " + precision);
    cm::GemmKernels path;
    if (gemm_kernel == "auto") path = cm::GemmKernels::kAuto;
    else if (gemm_kernel == "fp32-operands") path = cm::GemmKernels::kFp32Operands;
    else if (gemm_kernel == "tile64") path = cm::GemmKernels::kTile64;
    else return usage("--gemm-kernel expects auto, fp32-operands or tile64, got " + gemm_kernel);
    cm::AttentionKernel attn;
    const bool bf16_activations = p == ck::GemmPrecision::kBf16 && attention_kernel == "auto" && fused &&
                                  path == cm::GemmKernels::kAuto;
    if (attention_kernel == "auto") attn = bf16_activations ? cm::AttentionKernel::kBf16 : cm::AttentionKernel::kAuto;
    else if (attention_kernel == "tc") attn = cm::AttentionKernel::kTc;
    else if (attention_kernel == "f32") attn = cm::AttentionKernel::kAuto;
    else return usage("--attention-kernel expects auto, tc or f32, got " + attention_kernel);
    if (!model.empty() + !gemm.empty() + !attention.empty() != 1)
        return usage("give exactly one of --model, --gemm and --attention");

    cm::PtxasTable ptxas;
    if (!ptxas_path.empty() && !ptxas.load(ptxas_path) && ptxas_path != DD_CUDA_MODEL_PTXAS)
        return usage("cannot read the ptxas usage file " + ptxas_path);
    try {
        if (!gemm.empty()) {
            int M, N, K;
            char rest;
            if (sscanf(gemm.c_str(), "%d,%d,%d%c", &M, &N, &K, &rest) != 3 || M < 1 || N < 1 || K < 1)
                return usage("--gemm expects M,N,K (positive integers), got " + gemm);
            const cm::Workload w = cm::gemm_workload(M, N, K, p, path, bf16_activations, "linear " + gemm, 1);
            const std::string title = "GEMM M=" + std::to_string(M) + " N=" + std::to_string(N) +
                                      " K=" + std::to_string(K) + " " + precision + ", gemm kernel " + gemm_kernel +
                                      (bf16_activations ? ", bf16 x and y" : "");
            fputs(cm::report({w}, *m, ptxas, json, title, 2.0 * M * N * K).c_str(), stdout);
            return 0;
        }
        if (!attention.empty()) {
            int S, T, H, Dh;
            char rest;
            if (sscanf(attention.c_str(), "%d,%d,%d,%d%c", &S, &T, &H, &Dh, &rest) != 4 || S < 1 || T < 1 || H < 1 ||
                Dh < 1 || Dh > 128)
                return usage("--attention expects S,T,H,Dh (positive integers, Dh <= 128), got " + attention);
            const cm::Workload w = cm::attention_workload(S, T, H, Dh, attn, "attention " + attention, 1);
            const std::string title = "attention S=" + std::to_string(S) + " T=" + std::to_string(T) +
                                      " H=" + std::to_string(H) + " Dh=" + std::to_string(Dh) + ", attention kernel " +
                                      attention_kernel;
            fputs(cm::report({w}, *m, ptxas, json, title, 4.0 * S * H * (double)T * T * Dh).c_str(), stdout);
            return 0;
        }
        const cm::DitConfig* c = cm::dit_config(model);
        if (!c) return usage("unknown --model " + model);
        const std::string title = std::string(c->name) + " forward, batch " + std::to_string(batch) +
                                  (cfg ? " + CFG" : "") + ", " + precision + ", gemm kernel " + gemm_kernel +
                                  (fused ? "" : ", unfused epilogues") + ", attention kernel " + attention_kernel;
        fputs(cm::report(cm::dit_forward(*c, batch, cfg, p, path, fused, attn), *m, ptxas, json, title, 0).c_str(),
              stdout);
        return 0;
    } catch (const std::exception& e) {
        fprintf(stderr, "dyndit_cuda_model: %s\n", e.what());
        return 1;
    }
}
