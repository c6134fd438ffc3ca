// The cost model's inputs and arithmetic (native/bench/cuda_model.h) against hand counts on today's GEMM
// (gemm_tf32.cu: 64x64x32 CTA tiles, 4 warps of 32x32, scalar fragment loads from rows of 36 floats).
// Per CTA k-tile, by hand:
//   stores: 2 tiles x 64 rows x 32 floats, a warp stores 32 consecutive floats of one row: 128 requests,
//           1 wavefront each;
//   tf32 fragment loads: per warp and k-step of 8: 8 A + 8 B scalar loads, banks (36 g + t) % 32 = 4g + t all
//           distinct: 1 wavefront each; 4 warps x 4 k-steps x 16 = 256;  total 384, no conflicts;
//   bf16 fragment loads: per warp and k-step of 16: 8 A + 8 B 64-bit loads, per half warp rows g, g+1 at
//           words 36g + 2t overlap in 4 banks: 2-way, 4 wavefronts instead of 2: 4 x 2 x 16 x 4 = 512 (256 of
//           them conflicts); total 640;
//   global loads: 2 x 64 x 32 floats = 16 KiB = 512 sectors, for 2 x 64 x 64 x 32 = 262144 FLOP: 16 FLOP per
//           L2 byte;
//   epilogue (per CTA, once): 4 warps x 32 scalar stores of rows g, g+8 and columns 2t (+1): 8 rows of 4
//           floats 8 B apart = 8 sectors per request: 1024 sectors for 16 KiB of output.
#include <cstdio>
#include <fstream>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "gemm_tf32.cuh"

#include "cuda_model.h"

using emu_test::DevBuf;
namespace ck = dd::cuda_kernels;
namespace cm = dd::cuda_model;
namespace emu = dd::simt::emu;

namespace {

emu::LaunchRecord count_linear(int M, int N, int K, ck::GemmPrecision precision, bool sample,
                               ck::GemmPath path = ck::GemmPath::kTile64, bool bf16_weights = false) {
    emu_test::Rng rng;
    std::vector<float> x((size_t)M * K), w((size_t)N * K);
    for (float& v : x) v = rng.normal();
    for (float& v : w) v = rng.normal();
    DevBuf<float> dx(x), dw(w), dy((size_t)M * N);
    DevBuf<uint16_t> dw16((size_t)N * K);  // the counts do not depend on the values
    ck::LinearArgs a;
    a.x = dx.p; a.x_rs = K;
    a.w = dw.p; a.w_rs = K;
    a.bias = nullptr;
    a.y = dy.p; a.y_rs = N;
    a.M = M;
    a.precision = precision;
    a.path = path;
    if (bf16_weights) {
        a.w16 = dw16.p;
        a.w16_rs = K;
    }
    emu::counting_start(sample);
    const cudaError_t e = ck::linear(a, N, K, 0);
    std::vector<emu::LaunchRecord> rec = emu::counting_stop();
    EXPECT_EQ(e, cudaSuccess);
    EXPECT_EQ(rec.size(), 1u);
    return rec.empty() ? emu::LaunchRecord{} : rec[0];
}

}  // namespace

TEST(CudaModelGemm, TodaysGemmMatchesTheHandCountPerCtaKTile) {
    const int M = 128, N = 128, K = 64, ctas = 4, ktiles = 2;
    const emu::LaunchRecord r = count_linear(M, N, K, ck::GemmPrecision::kTf32, false);
    const emu::Counters& c = r.whole;
    EXPECT_EQ(r.blocks_total, (uint64_t)ctas);
    EXPECT_EQ(c.smem_wavefronts, 384.0 * ctas * ktiles);
    EXPECT_EQ(c.smem_conflict_wavefronts, 0);
    EXPECT_EQ(c.mma_tf32, 128.0 * ctas * ktiles);  // 4 warps x 4 k-steps x 8 tiles
    EXPECT_EQ(c.mma_flops, 2.0 * M * N * K);
    const double load_sectors = c.global_sectors - c.global_store_sectors;
    EXPECT_EQ(load_sectors, 512.0 * ctas * ktiles);
    EXPECT_EQ(c.mma_flops / (load_sectors * 32), 16.0);
    EXPECT_EQ(c.global_store_sectors, 1024.0 * ctas);
    EXPECT_EQ(c.barriers, 2.0 * ctas * ktiles);
}

TEST(CudaModelGemm, TodaysBf16GemmHasTwoWayConflictsOnItsFragmentReads) {
    const emu::LaunchRecord r = count_linear(64, 64, 64, ck::GemmPrecision::kBf16, false);
    EXPECT_EQ(r.whole.smem_wavefronts, 640.0 * 2);
    EXPECT_EQ(r.whole.smem_conflict_wavefronts, 256.0 * 2);
    EXPECT_EQ(r.whole.mma_bf16, 64.0 * 2);  // 4 warps x 2 k-steps x 8 tiles
}

// The bf16-weight kernel (gemm_bf16_weights.cuh), one 128x256 CTA, per k-tile of 32, by hand:
//   x stores: 1024 float4 pieces rounded to 8 B, a warp request 256 B = 2 wavefronts: 32 requests, 64;
//   W cp.async: 256 rows x 64 B, a warp request 512 B = 4 wavefronts: 32 requests, 128;
//   ldmatrix.x4 (4 wavefronts each): per warp and k-step of 16, 4 A + 4 B: 8 warps x 2 k-steps x 32 = 512;
//   total 704 for 2 x 128 x 256 x 32 FLOP (2979 per wavefront; the fp32-operand kernel's 1408: 1489), no conflicts;
//   global loads: x 128 rows x 128 B + W 256 rows x 64 B = 1024 sectors: 64 FLOP per L2 byte (fp32 operands: 43.7).
TEST(CudaModelGemm, Bf16WeightKernelMatchesTheHandCountPerCtaKTile) {
    const int M = 128, N = 256, K = 64, ktiles = 2;
    const emu::LaunchRecord r = count_linear(M, N, K, ck::GemmPrecision::kBf16, false, ck::GemmPath::kAuto, true);
    const emu::Counters& c = r.whole;
    EXPECT_EQ(r.kernel.rfind("linear_w16_kernel", 0), 0u) << r.kernel;
    EXPECT_EQ(r.blocks_total, 1u);
    EXPECT_EQ(c.smem_wavefronts, 704.0 * ktiles);
    EXPECT_EQ(c.smem_conflict_wavefronts, 0);
    EXPECT_EQ(c.ldmatrix_x4, 8.0 * 8 * 2 * ktiles);
    EXPECT_EQ(c.mma_bf16, 8.0 * 2 * 32 * ktiles);  // 8 warps x 2 k-steps x 4 x 8 tiles
    EXPECT_EQ(c.mma_flops, 2.0 * M * N * K);
    const double load_sectors = c.global_sectors - c.global_store_sectors;
    EXPECT_EQ(load_sectors, 1024.0 * ktiles);
    EXPECT_EQ(c.mma_flops / (load_sectors * 32), 64.0);
    EXPECT_EQ(c.barriers, 1.0 * ktiles);
}

TEST(CudaModelGemm, SampledCountEqualsTheFullCountWithRaggedEdges) {
    // 5 x 4 CTAs with partial last row / column tiles: the sampled (9 CTAs) estimate is exact.
    const emu::LaunchRecord full = count_linear(200, 300, 96, ck::GemmPrecision::kTf32, false);
    const emu::LaunchRecord sampled = count_linear(200, 300, 96, ck::GemmPrecision::kTf32, true);
    EXPECT_EQ(sampled.blocks_emulated, 9u);
    EXPECT_EQ(full.blocks_emulated, 20u);
    EXPECT_EQ(sampled.whole.smem_wavefronts, full.whole.smem_wavefronts);
    EXPECT_EQ(sampled.whole.global_sectors, full.whole.global_sectors);
    EXPECT_EQ(sampled.whole.mma_flops, full.whole.mma_flops);
}

TEST(CudaModelGemm, OccupancyWavesAndTermsByHand) {
    // ptxas lines as nvcc prints them: 88 registers -> 2816 per warp (256-register units), 11264 per 4-warp
    // block: 5 blocks per SM by registers (shared memory 18 KiB + 1 KiB would allow 11 on H100).
    const std::string path = testing::TempDir() + "cuda_model_ptxas_test.txt";
    {
        std::ofstream f(path);
        f << "ptxas info    : Compiling entry function "
             "'_ZN2dd12cuda_kernels45_GLOBAL__N__358366df_12_gemm_tf32_cu_6089b89a13linear_kernelILi1EEEvNS1_6ParamsE' "
             "for 'sm_90'\nptxas info    : Used 88 registers, used 1 barriers\n";
    }
    cm::PtxasTable ptxas;
    ASSERT_TRUE(ptxas.load(path));
    std::remove(path.c_str());
    const cm::Machine& m = cm::h100();
    cm::Workload w;
    w.launch.kernel = "linear_kernel<kModeTf32>";
    w.launch.block = dim3(128);
    w.launch.dyn_smem = 18432;
    w.launch.blocks_total = 132 * 5;  // exactly one full wave
    w.launch.blocks_emulated = 9;
    // 1 ms of TF32 tensor work at 65% of 495 TFLOP/s, in m16n8k8 instructions of 2048 FLOP.
    w.launch.whole.mma_tf32 = 495e12 * 0.65 * 1e-3 / 2048;
    w.launch.whole.smem_wavefronts = 132 * 1.75e9 * 0.5e-3;  // 0.5 ms at 1 per clock per SM
    w.dram_bytes = 3.35e12 * 0.25e-3;                         // 0.25 ms of HBM, and 0.105 ms of L2
    cm::Cost k = cm::cost(w, m, ptxas);
    EXPECT_TRUE(k.registers_known);
    EXPECT_EQ(k.registers, 88);
    EXPECT_EQ(k.blocks_per_sm, 5);
    EXPECT_NEAR(k.tensor_ms, 1.0, 1e-9);
    EXPECT_NEAR(k.smem_ms, 0.5, 1e-9);
    EXPECT_NEAR(k.dram_ms, 0.25, 1e-9);
    EXPECT_NEAR(k.l2_ms, 3.35e12 * 0.25e-3 / 8e12 * 1e3, 1e-9);
    EXPECT_NEAR(k.modeled_ms, 1.0, 1e-9);
    EXPECT_STREQ(k.bound, "tensor");
    EXPECT_NEAR(k.scale, 660.0 / 9, 1e-12);
    // One block more: a second wave with one block, the tensor and smem terms scale by 2 * 660 / 661.
    w.launch.blocks_total = 132 * 5 + 1;
    k = cm::cost(w, m, ptxas);
    EXPECT_NEAR(k.wave_efficiency, 661.0 / 1320, 1e-12);
    EXPECT_NEAR(k.tensor_ms, 1320.0 / 661, 1e-9);
}
