// Atomics across blocks that really run in parallel on several OS threads.
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "emu_test_util.h"

using emu_test::DevBuf;

namespace {

std::mutex g_ids_mu;
std::set<std::thread::id> g_ids;  // OS threads that ran blocks (test-only host code in a kernel)

size_t os_threads_seen() {
    std::lock_guard<std::mutex> lk(g_ids_mu);
    return g_ids.size();
}

// Block 0 waits (up to 2 s) until a block runs on a second OS thread, so the adds below really
// contend across OS threads instead of the launching thread racing through every block alone.
__global__ void count_everything(int* icount, float* fcount, double* dcount, unsigned long long* ucount, int reps,
                                 int want_peers) {
    if (threadIdx.x == 0) {
        {
            std::lock_guard<std::mutex> lk(g_ids_mu);
            g_ids.insert(std::this_thread::get_id());
        }
        const auto t0 = std::chrono::steady_clock::now();
        while (blockIdx.x == 0 && want_peers && os_threads_seen() < 2 &&
               std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2))
            std::this_thread::yield();
    }
    for (int r = 0; r < reps; ++r) {
        atomicAdd(icount, 1);
        atomicAdd(fcount, 1.0f);
        atomicAdd(dcount, 0.5);
        atomicAdd(ucount, 3ull);
    }
}

__global__ void max_min(const int* v, int n, int* mx, int* mn, unsigned* umx) {
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
        atomicMax(mx, v[i]);
        atomicMin(mn, v[i]);
        atomicMax(umx, (unsigned)v[i] * 2654435761u);
    }
}

// A lock made of atomicCAS / atomicExch around a non-atomic read-modify-write. Threads never yield
// inside the critical section (no barrier / collective there), so this cannot spin on a fiber of
// its own block.
__global__ void cas_lock(int* lock, int* plain, int* cas_counter) {
    while (atomicCAS(lock, 0, 1) != 0) {
    }
    __threadfence();
    *plain = *plain + 1;
    __threadfence();
    atomicExch(lock, 0);
    int old = *cas_counter, assumed;
    do {
        assumed = old;
        old = atomicCAS(cas_counter, assumed, assumed + 2);
    } while (old != assumed);
}

__global__ void wrapping(unsigned* inc, unsigned* dec, int* sub, int* bits) {
    atomicInc(inc, 9u);
    atomicDec(dec, 9u);
    atomicSub(sub, 2);
    atomicOr(bits, 1 << (threadIdx.x % 31));
    atomicAnd(bits + 1, ~(1 << (threadIdx.x % 31)));
    atomicXor(bits + 2, 1);
}

}  // namespace

TEST(EmuAtomics, AddAcrossParallelBlocks) {
    const int blocks = 128, threads = 128, reps = 4, n = blocks * threads * reps;  // n < 2^24: exact in float
    DevBuf<int> ic(std::vector<int>{0});
    DevBuf<float> fc(std::vector<float>{0.0f});
    DevBuf<double> dc(std::vector<double>{0.0});
    DevBuf<unsigned long long> uc(std::vector<unsigned long long>{0});
    {
        std::lock_guard<std::mutex> lk(g_ids_mu);
        g_ids.clear();
    }
    ASSERT_EQ(dd_launch(count_everything, blocks, threads, 0, 0, ic.p, fc.p, dc.p, uc.p, reps,
                        dd::simt::emu::worker_count() > 1 ? 1 : 0), cudaSuccess);
    EXPECT_EQ(ic.get()[0], n);
    EXPECT_EQ(fc.get()[0], (float)n);  // exact below 2^24
    EXPECT_EQ(dc.get()[0], 0.5 * n);
    EXPECT_EQ(uc.get()[0], 3ull * n);
    if (dd::simt::emu::worker_count() > 1) {
        std::lock_guard<std::mutex> lk(g_ids_mu);
        EXPECT_GT(g_ids.size(), 1u) << "blocks should run on several OS threads";
    }
}

TEST(EmuAtomics, MaxMin) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int n = 5000;
    std::vector<int> v(n);
    for (int& x : v) x = rng.integer(-1000000, 1000000);
    DevBuf<int> dv(v), mx(std::vector<int>{INT32_MIN}), mn(std::vector<int>{INT32_MAX});
    DevBuf<unsigned> umx(std::vector<unsigned>{0});
    ASSERT_EQ(dd_launch(max_min, 16, 64, 0, 0, dv.p, n, mx.p, mn.p, umx.p), cudaSuccess);
    int want_mx = INT32_MIN, want_mn = INT32_MAX;
    unsigned want_umx = 0;
    for (int x : v) {
        want_mx = std::max(want_mx, x);
        want_mn = std::min(want_mn, x);
        want_umx = std::max(want_umx, (unsigned)x * 2654435761u);
    }
    EXPECT_EQ(mx.get()[0], want_mx);
    EXPECT_EQ(mn.get()[0], want_mn);
    EXPECT_EQ(umx.get()[0], want_umx);
}

TEST(EmuAtomics, CasLockAndCasLoop) {
    const int blocks = 64, threads = 64;
    DevBuf<int> lock(std::vector<int>{0}), plain(std::vector<int>{0}), cnt(std::vector<int>{0});
    ASSERT_EQ(dd_launch(cas_lock, blocks, threads, 0, 0, lock.p, plain.p, cnt.p), cudaSuccess);
    EXPECT_EQ(plain.get()[0], blocks * threads);
    EXPECT_EQ(cnt.get()[0], 2 * blocks * threads);
}

TEST(EmuAtomics, IncDecSubAndBitOps) {
    const int n = 95;
    DevBuf<unsigned> inc(std::vector<unsigned>{0}), dec(std::vector<unsigned>{0});
    DevBuf<int> sub(std::vector<int>{1000}), bits(std::vector<int>{0, -1, 0});
    ASSERT_EQ(dd_launch(wrapping, 1, n, 0, 0, inc.p, dec.p, sub.p, bits.p), cudaSuccess);
    EXPECT_EQ(inc.get()[0], (unsigned)(n % 10));              // counts 0..9 then wraps to 0
    EXPECT_EQ(dec.get()[0], (unsigned)((10 - n % 10) % 10));  // 0 -> 9 -> 8 ...
    EXPECT_EQ(sub.get()[0], 1000 - 2 * n);
    const auto b = bits.get();
    EXPECT_EQ(b[0], 0x7fffffff);
    EXPECT_EQ(b[1], (int)0x80000000);
    EXPECT_EQ(b[2], n % 2);
}
