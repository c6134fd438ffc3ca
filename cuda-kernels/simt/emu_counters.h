// What the emulator counts for the cost model (dyndit_cuda_model): per launch, the instructions that
// dominate a kernel's time as the hardware would execute them. Off by default; counting_start() turns it
// on for the calling process until counting_stop(), which returns one record per launch.
//
// How accesses are counted. Instrumented accesses (simt/dd_mem.h: ld_shared / st_shared / ld_global /
// st_global / cp_async, and ldmatrix) are logged per thread with their source site; at every barrier
// release and at block end, each warp's logs are matched by (site, n-th execution of that site by the lane):
// one such match is one warp request, as the hardware issues it.
//   shared memory: 32 banks of 4 B. A request is split into phases (all 32 lanes for accesses of at most
//     4 B, half warps for 8 B, quarter warps for 16 B and for each 8x8 matrix of an ldmatrix); a phase takes
//     as many wavefronts as its most-hit bank has distinct 4-B words (the same word is a broadcast). The
//     minimum is one wavefront per phase; everything above it is a conflict wavefront.
//   global memory: bytes requested (sum over lanes) and distinct 32-B sectors per request; the L2 traffic
//     is sectors x 32 B. DRAM traffic is not counted here (it depends on L2 reuse across blocks): the cost
//     model takes each kernel's compulsory bytes from the shapes.
//   mma.sync: instructions per shape / type and FLOPs (2*M*N*K per warp instruction); ldmatrix by .x1/.x2/
//     .x4 and .trans; cp.async by size, .ca/.cg, commit_group and wait_group; block barriers released.
// Plain pointer accesses are not seen: a kernel's main loops use the instrumented forms.
//
// Sampling (counting_start(true)): a launch runs only representative blocks: per grid dimension of size n,
// block 0, one interior block (n/2) and block n-1 (fewer when n < 3), all combinations over x, y, z (at
// most 27 blocks). Each emulated block stands for every block of its class (first / interior / last in each
// dimension): its counters are weighted by the class size (1, n-2, 1 per dimension), so a kernel whose
// blocks of one class do the same work is counted exactly. Sampled launches leave the outputs incomplete:
// use them to count, never to compute.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <vector_types.h>

namespace dd::simt::emu {

struct Counters {
    double mma_bf16 = 0, mma_f16 = 0, mma_tf32 = 0;  // warp-wide mma.sync instructions
    double mma_flops = 0;
    double ldmatrix_x1 = 0, ldmatrix_x2 = 0, ldmatrix_x4 = 0, ldmatrix_trans = 0;  // trans: also in x1/x2/x4
    double cp_async_4 = 0, cp_async_8 = 0, cp_async_16 = 0, cp_async_cg = 0;  // per thread; cg: also by size
    double cp_async_commits = 0, cp_async_waits = 0;                          // per thread
    double smem_requests = 0, smem_wavefronts = 0, smem_conflict_wavefronts = 0;  // warp requests
    double global_requests = 0, global_bytes = 0, global_sectors = 0;
    double global_store_sectors = 0;  // the stores' part of global_sectors
    double barriers = 0;  // block barriers released
    double blocks = 0;

    double l2_bytes() const { return global_sectors * 32.0; }
    void add(const Counters& o, double weight);
};

struct LaunchRecord {
    std::string kernel;  // the dd_launch kernel expression, e.g. linear_kernel<kModeTf32>
    dim3 grid, block;
    size_t dyn_smem = 0;
    uint64_t blocks_total = 0, blocks_emulated = 0;
    Counters sampled;  // sums over the emulated blocks
    Counters whole;    // the whole grid: each emulated block weighted by the size of its class
};

// Host side, outside launches. counting_start(sample) begins recording every launch of the process;
// counting_stop() ends it and returns the records in launch order.
void counting_start(bool sample);
std::vector<LaunchRecord> counting_stop();

}  // namespace dd::simt::emu
