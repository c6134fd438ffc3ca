// What the emulator counts (emu_counters.h) against hand counts, and the cp.async semantics
// (emu_mem.h): copies land at wait_group; early reads and overwrites of a stage still being read fail.
#include "emu_test_util.h"
#include "simt/dd_mem.h"
#include "simt/dd_mma.h"

#include <string>

using emu_test::DevBuf;
namespace emu = dd::simt::emu;
using dd::simt::ld_global;
using dd::simt::ld_shared;
using dd::simt::st_shared;

namespace {

// Counts the launches made by fn (counting on, sampling as asked).
template <class Fn>
std::vector<emu::LaunchRecord> counted(bool sample, Fn fn) {
    emu::counting_start(sample);
    fn();
    return emu::counting_stop();
}

// One warp. Shared-memory patterns with hand-counted wavefronts (32 banks x 4 B):
//   s[lane]                  32 distinct banks                              1 wavefront
//   s[2*lane]                lanes l, l+16 share bank 2l%32: 2-way           2 (1 conflict)
//   s[0]                     one word for all: broadcast                     1
//   float2 at lane           2 phases of 16 lanes x 8 B, contiguous          2
//   float2 at 36g + 2t       (g = lane/4, t = lane%4) per half warp rows g, g+1 overlap in 4 banks: 2-way
//                            per phase (today's bf16 fragment read)          4 (2 conflicts)
//   float4 at lane           4 phases of 8 lanes x 16 B                      4
__global__ void smem_patterns(float* out) {
    DD_DYNAMIC_SMEM(float, s);
    const int l = threadIdx.x, g = l / 4, t = l % 4;
    for (int i = l; i < 1024; i += 32) s[i] = (float)i;  // plain stores: not counted
    __syncthreads();
    float acc = ld_shared(&s[l]);
    acc += ld_shared(&s[2 * l]);
    acc += ld_shared(&s[0]);
    const float2 a = ld_shared(reinterpret_cast<const float2*>(s) + l);
    const float2 b = ld_shared(reinterpret_cast<const float2*>(s + 36 * g + 2 * t));
    const float4 c = ld_shared(reinterpret_cast<const float4*>(s) + l);
    out[l] = acc + a.x + b.y + c.z;
}

// Global: 32 consecutive floats = 128 B in 4 sectors; a stride of 8 floats = 32 sectors for 128 B.
__global__ void global_patterns(const float* x, float* out) {
    const int l = threadIdx.x;
    out[l] = ld_global(&x[l]) + ld_global(&x[8 * l]);
}

// ldmatrix.x4 over 32 rows of 16 B: contiguous rows (4 phases, 1 wavefront each) and rows 64 B apart
// (rows 0,2,4,6 and 1,3,5,7 of each matrix share banks: 4-way, 4 wavefronts per phase, 16 in all).
__global__ void ldmatrix_and_mma(float* out) {
    DD_DYNAMIC_SMEM(uint16_t, s);
    const int l = threadIdx.x;
    for (int i = l; i < 4096; i += 32) s[i] = 0x3F80;  // bf16 1.0
    __syncthreads();
    uint32_t r[4];
    dd::simt::ldmatrix_x4(r, s + 8 * l);
    dd::simt::ldmatrix_x4_trans(r, s + 32 * l);
    float acc[4] = {0, 0, 0, 0};
    const uint32_t b[2] = {r[0], r[1]};
    for (int i = 0; i < 2; ++i) dd::simt::mma_m16n8k16_bf16(acc, r, b, acc);
    for (int i = 0; i < 3; ++i) dd::simt::mma_m16n8k8_tf32(acc, r, b, acc);
    out[l] = acc[0];
}

// Every block stores one word per thread (1 request per warp); the last block column stores twice.
__global__ void edge_heavy(float* out) {
    DD_DYNAMIC_SMEM(float, s);
    st_shared(&s[threadIdx.x], 1.0f);
    if (blockIdx.x == gridDim.x - 1) st_shared(&s[threadIdx.x + 64], 2.0f);
    __syncthreads();
    if (threadIdx.x == 0) out[blockIdx.y * gridDim.x + blockIdx.x] = 1.0f;
}

// Double-buffered cp.async pipeline over `tiles` tiles of 64 floats (16 threads x 16 B): out[i] = sum of
// tile elements i. bug 0: correct; 1: no wait before the read; 2: no __syncthreads after the wait (each
// thread reads another thread's copy); 3: no __syncthreads before overwriting the stage read last.
__global__ void pipeline(const float* x, float* out, int tiles, int bug) {
    DD_DYNAMIC_SMEM(float, s);  // [2][64]
    const int t = threadIdx.x;  // 16 threads
    auto load = [&](int tile) {
        dd::simt::cp_async_cg16(s + (tile % 2) * 64 + 4 * t, x + tile * 64 + 4 * t);
        dd::simt::cp_async_commit();
    };
    float acc[4] = {0, 0, 0, 0};
    load(0);
    for (int k = 0; k < tiles; ++k) {
        if (k + 1 < tiles) load(k + 1);
        if (bug != 1) {
            if (k + 1 < tiles) dd::simt::cp_async_wait<1>();
            else dd::simt::cp_async_wait<0>();
        }
        if (bug != 2) __syncthreads();
        const int src = (bug == 2 || bug == 3) ? (t + 1) % 16 : t;  // a neighbour's words
        for (int i = 0; i < 4; ++i) acc[i] += ld_shared(s + (k % 2) * 64 + 4 * src + i);
        if (bug != 3) __syncthreads();
    }
    for (int i = 0; i < 4; ++i) out[4 * t + i] = acc[i];
}

// Thread 0 copies the whole tile and waits; the others read it after a barrier placed before the wait.
__global__ void landed_then_read(const float* x, float* out) {
    DD_DYNAMIC_SMEM(float, s);
    if (threadIdx.x == 0) {
        for (int i = 0; i < 16; ++i) dd::simt::cp_async_ca<16>(s + 4 * i, x + 4 * i);
        dd::simt::cp_async_commit();
    }
    __syncthreads();
    if (threadIdx.x == 0) dd::simt::cp_async_wait<0>();
    out[threadIdx.x] = ld_shared(s + 4 * threadIdx.x);
}

std::string launch_pipeline(const std::vector<float>& x, int tiles, int bug, std::vector<float>* out) {
    DevBuf<float> dx(x), dout(64);
    const cudaError_t e = dd_launch(pipeline, 1, 16, 2 * 64 * sizeof(float), 0, dx.p, dout.p, tiles, bug);
    if (out) *out = dout.get();
    return e == cudaSuccess ? "" : dd::simt::error_detail(e);
}

}  // namespace

TEST(EmuCounting, SharedMemoryWavefrontsAndConflicts) {
    DevBuf<float> out(32);
    const auto rec = counted(false, [&] { ASSERT_EQ(dd_launch(smem_patterns, 1, 32, 4096, 0, out.p), cudaSuccess); });
    ASSERT_EQ(rec.size(), 1u);
    const emu::Counters& c = rec[0].whole;
    EXPECT_EQ(c.smem_requests, 6);
    EXPECT_EQ(c.smem_wavefronts, 1 + 2 + 1 + 2 + 4 + 4);
    EXPECT_EQ(c.smem_conflict_wavefronts, 1 + 2);
    EXPECT_EQ(c.barriers, 1);
    EXPECT_EQ(c.global_requests, 0);
}

TEST(EmuCounting, GlobalBytesAndSectors) {
    emu_test::Rng rng;
    std::vector<float> x(256);
    for (float& v : x) v = rng.normal();
    DevBuf<float> dx(x), out(32);
    const auto rec = counted(false, [&] { ASSERT_EQ(dd_launch(global_patterns, 1, 32, 0, 0, dx.p, out.p), cudaSuccess); });
    ASSERT_EQ(rec.size(), 1u);
    EXPECT_EQ(rec[0].whole.global_requests, 2);
    EXPECT_EQ(rec[0].whole.global_bytes, 256);
    EXPECT_EQ(rec[0].whole.global_sectors, 4 + 32);
    EXPECT_EQ(rec[0].whole.l2_bytes(), 36 * 32);
}

TEST(EmuCounting, LdmatrixAndMma) {
    DevBuf<float> out(32);
    const auto rec =
        counted(false, [&] { ASSERT_EQ(dd_launch(ldmatrix_and_mma, 1, 32, 8192, 0, out.p), cudaSuccess); });
    ASSERT_EQ(rec.size(), 1u);
    const emu::Counters& c = rec[0].whole;
    EXPECT_EQ(c.ldmatrix_x4, 2);
    EXPECT_EQ(c.ldmatrix_trans, 1);
    EXPECT_EQ(c.smem_wavefronts, 4 + 16);
    EXPECT_EQ(c.smem_conflict_wavefronts, 12);
    EXPECT_EQ(c.mma_bf16, 2);
    EXPECT_EQ(c.mma_tf32, 3);
    EXPECT_EQ(c.mma_flops, 2 * 2.0 * 16 * 8 * 16 + 3 * 2.0 * 16 * 8 * 8);
}

TEST(EmuCounting, SampledGridIsScaledByBlockClass) {
    DevBuf<float> out(7 * 5);
    const auto full = counted(false, [&] { ASSERT_EQ(dd_launch(edge_heavy, dim3(7, 5), 64, 1024, 0, out.p), cudaSuccess); });
    const auto sampled = counted(true, [&] { ASSERT_EQ(dd_launch(edge_heavy, dim3(7, 5), 64, 1024, 0, out.p), cudaSuccess); });
    ASSERT_EQ(full.size(), 1u);
    ASSERT_EQ(sampled.size(), 1u);
    EXPECT_EQ(full[0].blocks_emulated, 35u);
    EXPECT_EQ(sampled[0].blocks_emulated, 9u);  // first / interior / last in x and y
    EXPECT_EQ(sampled[0].blocks_total, 35u);
    // 2 warps per block; 5 edge blocks store twice: (35 + 5) * 2 requests.
    EXPECT_EQ(full[0].whole.smem_requests, 80);
    EXPECT_EQ(sampled[0].whole.smem_requests, 80);
    EXPECT_EQ(sampled[0].whole.blocks, 35);
    EXPECT_EQ(sampled[0].sampled.blocks, 9);
    EXPECT_EQ(sampled[0].whole.barriers, 35);
}

TEST(EmuCounting, OffRecordsNothing) {
    DevBuf<float> out(32);
    ASSERT_EQ(dd_launch(smem_patterns, 1, 32, 4096, 0, out.p), cudaSuccess);
    emu::counting_start(false);
    EXPECT_TRUE(emu::counting_stop().empty());
}

TEST(EmuCpAsync, DoubleBufferedPipelineIsExactAndCounted) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int tiles = 5;
    std::vector<float> x(tiles * 64), got;
    for (float& v : x) v = rng.normal();
    std::vector<emu::LaunchRecord> rec = counted(false, [&] { EXPECT_EQ(launch_pipeline(x, tiles, 0, &got), ""); });
    for (int i = 0; i < 64; ++i) {
        double ref = 0;
        for (int k = 0; k < tiles; ++k) ref += x[k * 64 + i];
        EXPECT_NEAR(got[i], ref, 1e-5 * (1 + std::fabs(ref))) << i;
    }
    ASSERT_EQ(rec.size(), 1u);
    const emu::Counters& c = rec[0].whole;
    EXPECT_EQ(c.cp_async_16, 16 * tiles);
    EXPECT_EQ(c.cp_async_cg, 16 * tiles);
    EXPECT_EQ(c.cp_async_commits, 16 * tiles);
    EXPECT_EQ(c.cp_async_waits, 16 * tiles);
    // cp.async: per tile one 16-lane request of 256 contiguous bytes = 8 sectors, and its shared side
    // (16 B per lane, 4 phases of 8 lanes: 2 used, 1 wavefront each).
    EXPECT_EQ(c.global_bytes, 256 * tiles);
    EXPECT_EQ(c.global_sectors, 8 * tiles);
    // + 4 scalar loads per tile of words 4t + i, t < 16: lanes t and t + 8 share a bank (2-way).
    EXPECT_EQ(c.smem_requests, tiles * (1 + 4));
    EXPECT_EQ(c.smem_wavefronts, tiles * (2 + 4 * 2));
    EXPECT_EQ(c.smem_conflict_wavefronts, tiles * 4);
    EXPECT_EQ(c.barriers, 2 * tiles);
}

TEST(EmuCpAsync, ReadBeforeWaitGroupFails) {
    std::vector<float> x(3 * 64, 1.0f);
    const std::string err = launch_pipeline(x, 3, 1, nullptr);
    EXPECT_NE(err.find("is in flight: its group was not waited for"), std::string::npos) << err;
    EXPECT_NE(err.find("test_emu_counting.cpp"), std::string::npos) << err;
}

TEST(EmuCpAsync, PipelineWithoutBarrierAfterWaitFails) {
    // Depending on the schedule the neighbour's copy is not issued yet (its cp.async then overwrites what
    // was read), in flight, or landed without a barrier: each is reported.
    std::vector<float> x(3 * 64, 1.0f);
    const std::string err = launch_pipeline(x, 3, 2, nullptr);
    EXPECT_TRUE(err.find("still being read") != std::string::npos || err.find("in flight") != std::string::npos ||
                err.find("no __syncthreads since its wait_group") != std::string::npos)
        << err;
}

TEST(EmuCpAsync, ReadOfAnotherThreadsLandedCopyWithoutBarrierFails) {
    emu_test::ScheduleScope forward(emu::Schedule::kForward);  // thread 0 waits before thread 1 reads
    std::vector<float> x(64, 1.0f);
    DevBuf<float> dx(x), dout(16);
    ASSERT_NE(dd_launch(landed_then_read, 1, 16, 64 * sizeof(float), 0, dx.p, dout.p), cudaSuccess);
    const std::string err = dd::simt::error_detail(cudaErrorLaunchFailure);
    EXPECT_NE(err.find("no __syncthreads since its wait_group"), std::string::npos) << err;
}

TEST(EmuCpAsync, OverwritingAStageStillBeingReadFails) {
    std::vector<float> x(3 * 64, 1.0f);
    {
        // In forward order the reader runs first: the later cp.async is the reported write.
        emu_test::ScheduleScope forward(emu::Schedule::kForward);
        const std::string err = launch_pipeline(x, 3, 3, nullptr);
        EXPECT_NE(err.find("still being read"), std::string::npos) << err;
    }
    // In other orders the same race can show from the reading side (the new copy is in flight).
    const std::string err = launch_pipeline(x, 3, 3, nullptr);
    EXPECT_TRUE(err.find("still being read") != std::string::npos || err.find("in flight") != std::string::npos)
        << err;
}
