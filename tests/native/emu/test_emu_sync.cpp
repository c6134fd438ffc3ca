// Block-level behaviour of the emulator: __syncthreads ordering and reductions, divergent barriers
// and deadlocks reported as launch errors (never a hang or an abort), launch configuration errors,
// and the schedule switch exposing a missing barrier.
#include <cmath>
#include <string>

#include "emu_test_util.h"

using emu_test::DevBuf;
namespace emu = dd::simt::emu;

namespace {

// Several phases, each: write own slot, barrier, read two other threads' slots, barrier.
__global__ void barrier_phases(int* out, int phases) {
    DD_DYNAMIC_SMEM(int, slot);
    const int n = blockDim.x * blockDim.y * blockDim.z;
    const int t = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
    int acc = 0;
    for (int p = 0; p < phases; ++p) {
        slot[t] = p * 1000 + t + (int)blockIdx.x;
        __syncthreads();
        acc += slot[(t + 1) % n] + slot[n - 1 - t];
        __syncthreads();
    }
    out[blockIdx.x * n + t] = acc;
}

__global__ void barrier_reductions(const int* pred, int* out) {
    const int t = threadIdx.x;
    const int p = pred[t];
    out[3 * t + 0] = __syncthreads_count(p);
    out[3 * t + 1] = __syncthreads_and(p);
    out[3 * t + 2] = __syncthreads_or(p);
}

__global__ void divergent_barrier(int* out) {
    if (threadIdx.x < 8) {
        __syncthreads();
    } else {
        __syncthreads();
    }
    out[threadIdx.x] = 1;
}

__global__ void shuffle_vs_barrier_deadlock(int* out) {
    int v = (int)threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_sync(0xffffffffu, v, 0);  // lanes 16..31 never come
    __syncthreads();
    out[threadIdx.x] = v;
}

__global__ void early_exit_then_barrier(int* out) {
    DD_DYNAMIC_SMEM(int, s);
    if (threadIdx.x >= 40) return;  // exited threads do not hold the barrier
    s[threadIdx.x] = (int)threadIdx.x * 2;
    __syncthreads();
    out[threadIdx.x] = s[39 - threadIdx.x];
}

// Missing barrier between the write and the neighbour's read: correct only if thread t-1 happens
// to run before thread t (forward order). Dynamic shared memory starts as NaN.
__global__ void missing_barrier(float* out) {
    DD_DYNAMIC_SMEM(float, s);
    const int t = threadIdx.x;
    s[t] = (float)t;
    out[t] = t > 0 ? s[t - 1] : 0.0f;
}

__global__ void nop_kernel(int* out) {
    if (out) out[0] = 1;
}

__global__ void nested_launch(int* out) {
    if (threadIdx.x == 0) out[0] = (int)dd_launch(nop_kernel, 1, 1, 0, 0, out + 1);
}

__global__ void trap_kernel(int* out) {
    if (threadIdx.x == 3) __trap();
    out[threadIdx.x] = 1;
}

}  // namespace

TEST(EmuSync, BarrierOrdersPhasesIn3dBlocks) {
    const dim3 block(8, 4, 2);
    const int n = 64, blocks = 5, phases = 4;
    DevBuf<int> out(blocks * n);
    ASSERT_EQ(dd_launch(barrier_phases, blocks, block, n * sizeof(int), 0, out.p, phases), cudaSuccess);
    const auto v = out.get();
    for (int b = 0; b < blocks; ++b)
        for (int t = 0; t < n; ++t) {
            int want = 0;
            for (int p = 0; p < phases; ++p) want += (p * 1000 + (t + 1) % n + b) + (p * 1000 + (n - 1 - t) + b);
            ASSERT_EQ(v[b * n + t], want) << "block " << b << " thread " << t;
        }
}

TEST(EmuSync, SyncthreadsCountAndOr) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int n = 96;
    for (int pattern = 0; pattern < 3; ++pattern) {
        std::vector<int> pred(n);
        for (int i = 0; i < n; ++i) pred[i] = pattern == 0 ? rng.integer(0, 1) : pattern == 1 ? 1 : 0;
        DevBuf<int> p(pred), out(3 * n);
        ASSERT_EQ(dd_launch(barrier_reductions, 1, n, 0, 0, p.p, out.p), cudaSuccess);
        int count = 0;
        for (int x : pred) count += x;
        const auto v = out.get();
        for (int t = 0; t < n; ++t) {
            EXPECT_EQ(v[3 * t + 0], count);
            EXPECT_EQ(v[3 * t + 1], count == n ? 1 : 0);
            EXPECT_EQ(v[3 * t + 2], count > 0 ? 1 : 0);
        }
    }
}

TEST(EmuSync, DivergentBarrierFailsTheLaunch) {
    DevBuf<int> out(64);
    const cudaError_t e = dd_launch(divergent_barrier, 2, 64, 0, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);
    const std::string msg = dd::simt::error_detail(e);
    EXPECT_NE(msg.find("divergent __syncthreads"), std::string::npos) << msg;
    EXPECT_NE(msg.find("divergent_barrier"), std::string::npos) << msg;  // the kernel's name
    EXPECT_NE(msg.find("test_emu_sync.cpp:"), std::string::npos) << msg;
}

TEST(EmuSync, DeadlockIsReportedWithEveryWaitingSite) {
    DevBuf<int> out(64);
    const cudaError_t e = dd_launch(shuffle_vs_barrier_deadlock, 1, 64, 0, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);
    const std::string msg = dd::simt::error_detail(e);
    EXPECT_NE(msg.find("deadlock"), std::string::npos) << msg;
    EXPECT_NE(msg.find("threads 0-15 wait in __shfl_sync"), std::string::npos) << msg;
    EXPECT_NE(msg.find("wait in __syncthreads"), std::string::npos) << msg;
}

TEST(EmuSync, ExitedThreadsDoNotHoldTheBarrier) {
    DevBuf<int> out(64);
    ASSERT_EQ(dd_launch(early_exit_then_barrier, 1, 64, 64 * sizeof(int), 0, out.p), cudaSuccess);
    const auto v = out.get();
    for (int t = 0; t < 40; ++t) EXPECT_EQ(v[t], (39 - t) * 2);
}

TEST(EmuSync, EngineStaysUsableAfterAFailedLaunch) {
    DevBuf<int> out(64);
    EXPECT_EQ(dd_launch(divergent_barrier, 4, 64, 0, 0, out.p), cudaErrorLaunchFailure);
    DevBuf<int> ok(3 * 32);
    ASSERT_EQ(dd_launch(barrier_phases, 3, 32, 32 * sizeof(int), 0, ok.p, 2), cudaSuccess);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
}

TEST(EmuSync, LaunchConfigurationErrors) {
    DevBuf<int> out(4);
    EXPECT_EQ(dd_launch(nop_kernel, 1, 2048, 0, 0, out.p), cudaErrorInvalidConfiguration);
    EXPECT_EQ(dd_launch(nop_kernel, dim3(1, 1, 1), dim3(1, 1, 65), 0, 0, out.p), cudaErrorInvalidConfiguration);
    EXPECT_EQ(dd_launch(nop_kernel, 0, 32, 0, 0, out.p), cudaErrorInvalidConfiguration);
    EXPECT_EQ(dd_launch(nop_kernel, dim3(1, 70000), 32, 0, 0, out.p), cudaErrorInvalidConfiguration);
    // More than 48 KiB of dynamic shared memory needs the opt-in attribute, as on a GPU.
    EXPECT_EQ(dd_launch(nop_kernel, 1, 32, 64 * 1024, 0, out.p), cudaErrorInvalidValue);
    ASSERT_EQ(cudaFuncSetAttribute(nop_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 64 * 1024), cudaSuccess);
    EXPECT_EQ(dd_launch(nop_kernel, 1, 32, 64 * 1024, 0, out.p), cudaSuccess);
    EXPECT_EQ(dd_launch(nop_kernel, 1, 32, 96 * 1024, 0, out.p), cudaErrorInvalidValue);
    EXPECT_EQ(cudaFuncSetAttribute(nop_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 300 * 1024),
              cudaErrorInvalidValue);
}

TEST(EmuSync, LaunchFromInsideAKernelIsRefused) {
    DevBuf<int> out(2);
    ASSERT_EQ(dd_launch(nested_launch, 1, 32, 0, 0, out.p), cudaSuccess);
    EXPECT_EQ(out.get()[0], (int)cudaErrorNotSupported);
}

TEST(EmuSync, TrapFailsTheLaunch) {
    DevBuf<int> out(32);
    const cudaError_t e = dd_launch(trap_kernel, 1, 32, 0, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);
    EXPECT_NE(std::string(dd::simt::error_detail(e)).find("__trap"), std::string::npos);
}

// The reason three schedules run in CI: a race that one order hides, another exposes.
TEST(EmuSync, ScheduleSwitchExposesAMissingBarrier) {
    const int n = 64;
    auto run = [&](emu::Schedule s) {
        emu_test::ScheduleScope scope(s);
        DevBuf<float> out(n);
        EXPECT_EQ(dd_launch(missing_barrier, 1, n, n * sizeof(float), 0, out.p), cudaSuccess);
        int wrong = 0;
        const auto v = out.get();
        for (int t = 1; t < n; ++t) wrong += !(v[t] == (float)(t - 1));
        return wrong;
    };
    EXPECT_EQ(run(emu::Schedule::kForward), 0);  // hidden: thread t-1 always ran first
    EXPECT_EQ(run(emu::Schedule::kReverse), n - 1);
    EXPECT_GT(run(emu::Schedule::kRandom), 0);
}

TEST(EmuSync, UnknownScheduleIsAnError) {
    const char* old = getenv("DYNDIT_EMU_SCHEDULE");
    const std::string saved = old ? old : "";
    setenv("DYNDIT_EMU_SCHEDULE", "backwards", 1);
    DevBuf<int> out(1);
    const cudaError_t e = dd_launch(nop_kernel, 1, 1, 0, 0, out.p);
    if (old) setenv("DYNDIT_EMU_SCHEDULE", saved.c_str(), 1);
    else unsetenv("DYNDIT_EMU_SCHEDULE");
    EXPECT_EQ(e, cudaErrorInvalidValue);
}
