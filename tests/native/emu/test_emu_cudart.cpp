// The cudart shim: host-side launch code (allocations, copies, errors, streams, events) runs as is.
#include <cstring>

#include "emu_test_util.h"

TEST(EmuCudart, MallocAlignmentCopiesAndMemset) {
    void* p = nullptr;
    ASSERT_EQ(cudaMalloc(&p, 1000), cudaSuccess);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 256, 0u);
    std::vector<unsigned char> h(1000), back(1000);
    for (int i = 0; i < 1000; ++i) h[i] = (unsigned char)(i * 7);
    EXPECT_EQ(cudaMemcpy(p, h.data(), 1000, cudaMemcpyHostToDevice), cudaSuccess);
    EXPECT_EQ(cudaMemcpyAsync(back.data(), p, 1000, cudaMemcpyDeviceToHost, 0), cudaSuccess);
    EXPECT_EQ(back, h);
    EXPECT_EQ(cudaMemset(p, 0xAB, 1000), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(back.data(), p, 1000, cudaMemcpyDefault), cudaSuccess);
    for (unsigned char c : back) ASSERT_EQ(c, 0xAB);
    EXPECT_EQ(cudaFree(p), cudaSuccess);
    EXPECT_EQ(cudaFree(nullptr), cudaSuccess);
}

TEST(EmuCudart, LastErrorIsStickyUntilRead) {
    cudaGetLastError();  // earlier tests may have left an error (as on a GPU)
    EXPECT_EQ(cudaPeekAtLastError(), cudaSuccess);
    EXPECT_EQ(cudaSetDevice(3), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaPeekAtLastError(), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaGetLastError(), cudaErrorInvalidDevice);
    EXPECT_EQ(cudaGetLastError(), cudaSuccess);
    EXPECT_STREQ(cudaGetErrorName(cudaErrorLaunchFailure), "cudaErrorLaunchFailure");
    EXPECT_STREQ(cudaGetErrorString(cudaErrorInvalidValue), "invalid argument");
}

TEST(EmuCudart, DeviceQueriesStreamsAndEvents) {
    int n = 0, dev = -1, warp = 0, major = 0, optin = 0;
    EXPECT_EQ(cudaGetDeviceCount(&n), cudaSuccess);
    EXPECT_EQ(n, 1);
    EXPECT_EQ(cudaGetDevice(&dev), cudaSuccess);
    EXPECT_EQ(dev, 0);
    EXPECT_EQ(cudaDeviceGetAttribute(&warp, cudaDevAttrWarpSize, 0), cudaSuccess);
    EXPECT_EQ(warp, 32);
    EXPECT_EQ(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, 0), cudaSuccess);
    EXPECT_GE(major, 8);
    EXPECT_EQ(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, 0), cudaSuccess);
    EXPECT_GT(optin, 48 * 1024);
    cudaStream_t s = nullptr;
    ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
    cudaEvent_t a, b;
    ASSERT_EQ(cudaEventCreate(&a), cudaSuccess);
    ASSERT_EQ(cudaEventCreate(&b), cudaSuccess);
    EXPECT_EQ(cudaEventRecord(a, s), cudaSuccess);
    EXPECT_EQ(cudaEventRecord(b, s), cudaSuccess);
    EXPECT_EQ(cudaEventSynchronize(b), cudaSuccess);
    float ms = -1;
    EXPECT_EQ(cudaEventElapsedTime(&ms, a, b), cudaSuccess);
    EXPECT_GE(ms, 0.0f);
    EXPECT_EQ(cudaStreamSynchronize(s), cudaSuccess);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(a), cudaSuccess);
    EXPECT_EQ(cudaEventDestroy(b), cudaSuccess);
    EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
}
