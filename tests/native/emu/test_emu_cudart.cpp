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

namespace {
__global__ void add_one(float* x, int n) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n) x[i] += 1.0f;
}
}  // namespace

// Stream capture: launches and async copies are recorded, not run; the graph replays them in order on the
// buffers' contents at launch time; synchronous copies inside a capture fail as on a GPU.
TEST(EmuCudart, StreamCaptureRecordsAndGraphsReplay) {
    const int n = 300;
    std::vector<float> h(n, 5.0f), back(n);
    float* d = nullptr;
    ASSERT_EQ(cudaMalloc(reinterpret_cast<void**>(&d), n * sizeof(float)), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(d, h.data(), n * sizeof(float), cudaMemcpyHostToDevice), cudaSuccess);
    cudaStream_t s = nullptr;
    ASSERT_EQ(cudaStreamCreate(&s), cudaSuccess);
    ASSERT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaSuccess);
    EXPECT_EQ(cudaStreamBeginCapture(s, cudaStreamCaptureModeThreadLocal), cudaErrorIllegalState);
    cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
    EXPECT_EQ(cudaStreamIsCapturing(s, &st), cudaSuccess);
    EXPECT_EQ(st, cudaStreamCaptureStatusActive);
    EXPECT_EQ(dd_launch(add_one, dim3(3), dim3(128), 0, s, d, n), cudaSuccess);
    EXPECT_EQ(dd_launch(add_one, dim3(3), dim3(128), 0, s, d, n), cudaSuccess);
    EXPECT_EQ(dd_launch(add_one, dim3(0), dim3(128), 0, s, d, n), cudaErrorInvalidConfiguration);  // checked now
    EXPECT_EQ(cudaMemcpyAsync(back.data(), d, n * sizeof(float), cudaMemcpyDeviceToHost, s), cudaSuccess);
    EXPECT_EQ(cudaMemcpy(back.data(), d, 4, cudaMemcpyDeviceToHost), cudaErrorStreamCaptureUnsupported);
    EXPECT_EQ(cudaMemset(d, 0, 4), cudaErrorStreamCaptureUnsupported);
    cudaGetLastError();
    cudaGraph_t graph = nullptr;
    ASSERT_EQ(cudaStreamEndCapture(s, &graph), cudaSuccess);
    for (float v : back) ASSERT_EQ(v, 0.0f) << "a captured op ran at capture time";
    cudaGraphExec_t exec = nullptr;
    ASSERT_EQ(cudaGraphInstantiate(&exec, graph, 0ULL), cudaSuccess);
    EXPECT_EQ(cudaGraphDestroy(graph), cudaSuccess);
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);
    for (float v : back) ASSERT_EQ(v, 7.0f);
    ASSERT_EQ(cudaGraphLaunch(exec, s), cudaSuccess);  // replays on the current contents
    for (float v : back) ASSERT_EQ(v, 9.0f);
    EXPECT_EQ(cudaGraphExecDestroy(exec), cudaSuccess);
    EXPECT_EQ(cudaStreamEndCapture(s, &graph), cudaErrorIllegalState);
    cudaGetLastError();
    EXPECT_EQ(cudaStreamDestroy(s), cudaSuccess);
    EXPECT_EQ(cudaFree(d), cudaSuccess);
}
