// Cost model of CUDA kernels on A100 / H100 from what the SIMT emulator counted (simt/emu_counters.h).
// Modeled, not measured: dyndit_cuda_bench stays the tool for a real GPU.
//
// Kernel time = max(tensor, smem, L2, DRAM) with
//   tensor = mma FLOPs / (peak of the mma type x mma.sync efficiency) / wave efficiency
//   smem   = shared-memory wavefronts / (SMs x 1 wavefront per clock x clock) / wave efficiency
//   L2     = max(L2 bytes counted (32-B sectors), DRAM bytes) / L2 bandwidth
//   DRAM   = compulsory bytes (each input read once, each output written once: from the shapes) / HBM bandwidth
// wave efficiency = blocks / (waves x SMs x resident blocks per SM): the tail of the last wave idles SMs;
// resident blocks per SM come from registers (ptxas for the arch), shared memory (+1 KiB reserved per block),
// threads and the 32-block limit.
#pragma once
#include <vector>
#include <string>
#include <vector>

#include "emu_counters.h"

namespace dd::cuda_model {

struct Machine {
    const char* name;
    const char* sm;  // ptxas target
    int sms;
    double clock_ghz;
    double tf32_tflops, bf16_tflops;  // dense tensor-core peaks
    double mma_sync_efficiency;       // fraction of the peak mma.sync reaches
    double hbm_tbs, l2_tbs;
    double smem_wavefronts_per_clock_per_sm;
    int regs_per_sm, threads_per_sm, blocks_per_sm;
    int smem_per_sm;  // bytes usable by blocks
};
const Machine& a100();
const Machine& h100();
const Machine* machine_by_name(const std::string& name);  // "a100" | "h100", else null

// Registers / static shared memory per kernel and arch from `ptxas -v` output (the lines "Compiling entry
// function '<mangled>' for 'sm_XX'" and "Used N registers, ... M bytes smem").
struct PtxasUsage {
    int registers = 0;
    int static_smem = 0;
};
class PtxasTable {
   public:
    bool load(const std::string& path);  // false when the file cannot be read
    // Usage of a kernel by the name the emulator records ("linear_ms_kernel<kModeTf32, 256>"): the
    // instantiations of that base name and argument count whose arguments equal the numeric ones given (names,
    // like kModeTf32, match any: ptxas prints numbers); several: the most registers.
    bool find(const std::string& kernel, const std::string& sm, PtxasUsage* out) const;
    bool empty() const { return table_.empty(); }

   private:
    struct Entry {
        std::string base, sm;
        std::vector<std::string> args;
        PtxasUsage usage;
    };
    std::vector<Entry> table_;
};

struct Workload {  // one kernel launch of a forward, `calls` times per forward
    std::string label;
    int calls = 1;
    double dram_bytes = 0;  // compulsory
    dd::simt::emu::LaunchRecord launch;
};

struct Cost {
    double tensor_ms = 0, smem_ms = 0, l2_ms = 0, dram_ms = 0, modeled_ms = 0;  // per call
    const char* bound = "";
    int registers = 0, blocks_per_sm = 0;
    bool registers_known = false;
    double wave_efficiency = 1;
    double scale = 1;  // blocks_total / blocks_emulated
};
Cost cost(const Workload& w, const Machine& m, const PtxasTable& ptxas);

// Report (text table or JSON) of a list of workloads; gemm_flops > 0 adds "tflops" (one GEMM or attention alone).
std::string report(const std::vector<Workload>& ws, const Machine& m, const PtxasTable& ptxas, bool json,
                   const std::string& title, double gemm_flops);

}  // namespace dd::cuda_model
