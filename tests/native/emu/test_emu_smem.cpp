// Shared memory: dynamic shared memory starts as NaN in every block (reads before writes show up),
// static __shared__ is one copy per running block even with blocks on parallel OS threads.
// CUDA's runtime header before the portability header on purpose: __shared__ must still become
// per-block storage (emu_keywords.h redefines the keywords host_defines.h made empty).
#include <cuda_runtime.h>

#include <cmath>
#include <cstring>

#include "emu_test_util.h"

using emu_test::DevBuf;

namespace {

// Reads the dynamic shared memory before anyone wrote it, then scribbles over it (the next block
// must see NaN again).
__global__ void read_then_scribble(float* out_f, double* out_d, unsigned short* out_h, int n) {
    DD_DYNAMIC_SMEM(float, s);
    const int t = threadIdx.x;
    out_f[blockIdx.x * n + t] = s[t];
    if (t == 0) {
        double d;
        memcpy(&d, s, sizeof d);
        out_d[blockIdx.x] = d;
        unsigned short h;
        memcpy(&h, reinterpret_cast<const char*>(s) + 2, 2);
        out_h[blockIdx.x] = h;
    }
    __syncthreads();
    s[t] = 1.0f;
}

__global__ void smem_alignment(unsigned long long* out) {
    DD_DYNAMIC_SMEM(unsigned char, s);
    out[0] = (unsigned long long)reinterpret_cast<uintptr_t>(s);
}

// Every block fills a static shared array with its own id, syncs, checks it; many blocks run
// concurrently on the worker threads.
__global__ void static_shared_is_per_block(int* bad) {
    __shared__ int tile[128];
    for (int round = 0; round < 4; ++round) {
        tile[threadIdx.x] = (int)blockIdx.x * 1000 + round;
        __syncthreads();
        for (int i = 0; i < 128; ++i)
            if (tile[i] != (int)blockIdx.x * 1000 + round) atomicAdd(bad, 1);
        __syncthreads();
    }
}

}  // namespace

TEST(EmuSmem, DynamicSharedMemoryIsPoisonedWithNaNPerBlock) {
    const int n = 64, blocks = 6;
    DevBuf<float> f(blocks * n);
    DevBuf<double> d(blocks);
    DevBuf<unsigned short> h(blocks);
    ASSERT_EQ(dd_launch(read_then_scribble, blocks, n, n * sizeof(float), 0, f.p, d.p, h.p, n), cudaSuccess);
    for (float x : f.get()) EXPECT_TRUE(std::isnan(x));
    for (double x : d.get()) EXPECT_TRUE(std::isnan(x));
    for (unsigned short x : h.get()) {
        __nv_bfloat16_raw raw;
        raw.x = x;
        EXPECT_TRUE(std::isnan(emu_test::from_bf16(__nv_bfloat16(raw))));
        __half_raw hr;
        hr.x = x;
        EXPECT_TRUE(std::isnan(__half2float(__half(hr))));
    }
}

TEST(EmuSmem, DynamicSharedMemoryIs16ByteAligned) {
    DevBuf<unsigned long long> out(1);
    ASSERT_EQ(dd_launch(smem_alignment, 1, 32, 100, 0, out.p), cudaSuccess);
    EXPECT_EQ(out.get()[0] % 16, 0u);
}

TEST(EmuSmem, StaticSharedIsPerBlockWithParallelBlocks) {
    DevBuf<int> bad(std::vector<int>{0});
    ASSERT_EQ(dd_launch(static_shared_is_per_block, 64, 128, 0, 0, bad.p), cudaSuccess);
    EXPECT_EQ(bad.get()[0], 0);
}
