// A tiny CUDA runtime for the emulator, so host-side launch code (allocations, copies, streams,
// events, error queries) runs unchanged. "Device" memory is host memory; launches are synchronous,
// so streams and synchronisation are no-ops. Declarations come from CUDA's cuda_runtime_api.h.
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <cuda_runtime_api.h>

#include "emu_api.h"

namespace {
thread_local cudaError_t tl_last = cudaSuccess;

cudaError_t set(cudaError_t e) {
    if (e != cudaSuccess) tl_last = e;
    return e;
}

// Device limits reported to host code: an sm_80-class device (the stricter of the two targets).
constexpr int kSmemOptIn = 163 * 1024;
}  // namespace

struct CUstream_st {
    int unused;
};
struct CUevent_st {
    std::chrono::steady_clock::time_point t;
};
struct CUgraph_st {
    std::vector<dd::simt::emu::GraphNode> nodes;
};
struct CUgraphExec_st {
    std::vector<dd::simt::emu::GraphNode> nodes;
};

namespace {
// Synchronous copies and memsets are not capturable (on a GPU they fail the capture the same way).
bool refuse_while_capturing() { return dd::simt::emu::capturing(); }
}  // namespace

extern "C" {

cudaError_t cudaMalloc(void** p, size_t size) {
    if (!p) return set(cudaErrorInvalidValue);
    *p = nullptr;
    if (size == 0) return cudaSuccess;
    // 256-byte alignment as cudaMalloc guarantees; exact size so AddressSanitizer sees overruns.
    if (posix_memalign(p, 256, size) != 0) return set(cudaErrorMemoryAllocation);
    return cudaSuccess;
}
cudaError_t cudaFree(void* p) {
    free(p);
    return cudaSuccess;
}
cudaError_t cudaMallocHost(void** p, size_t size) { return cudaMalloc(p, size); }
cudaError_t cudaFreeHost(void* p) { return cudaFree(p); }

cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind) {
    if (refuse_while_capturing()) return set(cudaErrorStreamCaptureUnsupported);
    if (n && (!dst || !src)) return set(cudaErrorInvalidValue);
    if (n) memcpy(dst, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind k, cudaStream_t) {
    if (dd::simt::emu::capturing()) {
        if (n && (!dst || !src)) return set(cudaErrorInvalidValue);
        dd::simt::emu::record([=] {
            if (n) memcpy(dst, src, n);
            return cudaSuccess;
        });
        return cudaSuccess;
    }
    return cudaMemcpy(dst, src, n, k);
}
cudaError_t cudaMemset(void* p, int value, size_t n) {
    if (refuse_while_capturing()) return set(cudaErrorStreamCaptureUnsupported);
    if (n && !p) return set(cudaErrorInvalidValue);
    if (n) memset(p, value, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void* p, int value, size_t n, cudaStream_t) {
    if (dd::simt::emu::capturing()) {
        if (n && !p) return set(cudaErrorInvalidValue);
        dd::simt::emu::record([=] {
            if (n) memset(p, value, n);
            return cudaSuccess;
        });
        return cudaSuccess;
    }
    return cudaMemset(p, value, n);
}

cudaError_t cudaDeviceSynchronize(void) {
    return refuse_while_capturing() ? set(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t) {
    return refuse_while_capturing() ? set(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}

// ---- stream capture and graphs (per host thread: see emu_api.h) ----
cudaError_t cudaStreamBeginCapture(cudaStream_t, cudaStreamCaptureMode) { return set(dd::simt::emu::begin_capture()); }
cudaError_t cudaStreamEndCapture(cudaStream_t, cudaGraph_t* graph) {
    if (!graph) return set(cudaErrorInvalidValue);
    *graph = nullptr;
    std::vector<dd::simt::emu::GraphNode> nodes;
    if (cudaError_t e = dd::simt::emu::end_capture(&nodes)) return set(e);
    *graph = new CUgraph_st{std::move(nodes)};
    return cudaSuccess;
}
cudaError_t cudaStreamIsCapturing(cudaStream_t, cudaStreamCaptureStatus* status) {
    if (!status) return set(cudaErrorInvalidValue);
    *status = dd::simt::emu::capturing() ? cudaStreamCaptureStatusActive : cudaStreamCaptureStatusNone;
    return cudaSuccess;
}
cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
    if (!exec || !graph) return set(cudaErrorInvalidValue);
    *exec = new CUgraphExec_st{graph->nodes};
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t) {
    if (!exec) return set(cudaErrorInvalidValue);
    if (dd::simt::emu::capturing()) return set(cudaErrorStreamCaptureUnsupported);  // no nested graphs here
    for (const auto& node : exec->nodes)
        if (cudaError_t e = node()) return set(e);
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) {
    if (!s) return set(cudaErrorInvalidValue);
    *s = new CUstream_st{0};
    return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned int) { return cudaStreamCreate(s); }
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    delete s;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
    if (!e) return set(cudaErrorInvalidValue);
    *e = new CUevent_st{std::chrono::steady_clock::now()};
    return cudaSuccess;
}
cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned int) { return cudaEventCreate(e); }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t) {
    if (!e) return set(cudaErrorInvalidResourceHandle);
    e->t = std::chrono::steady_clock::now();
    return cudaSuccess;
}
cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b) {
    if (!ms || !a || !b) return set(cudaErrorInvalidValue);
    *ms = std::chrono::duration<float, std::milli>(b->t - a->t).count();
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    delete e;
    return cudaSuccess;
}

cudaError_t cudaGetLastError(void) {
    const cudaError_t e = tl_last;
    tl_last = cudaSuccess;
    return e;
}
cudaError_t cudaPeekAtLastError(void) { return tl_last; }

const char* cudaGetErrorName(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorNotSupported: return "cudaErrorNotSupported";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
        case cudaErrorMisalignedAddress: return "cudaErrorMisalignedAddress";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorIllegalState: return "cudaErrorIllegalState";
        case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
        default: return "cudaErrorUnknown";
    }
}
const char* cudaGetErrorString(cudaError_t e) {
    switch (e) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInvalidDevice: return "invalid device ordinal";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorNotSupported: return "operation not supported";
        case cudaErrorLaunchFailure: return "unspecified launch failure";
        case cudaErrorMisalignedAddress: return "misaligned address";
        case cudaErrorNoDevice: return "no CUDA-capable device is detected";
        case cudaErrorIllegalState: return "the operation is not permitted in the current state";
        case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
        default: return "unknown error";
    }
}

cudaError_t cudaGetDeviceCount(int* n) {
    if (!n) return set(cudaErrorInvalidValue);
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaGetDevice(int* d) {
    if (!d) return set(cudaErrorInvalidValue);
    *d = 0;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : set(cudaErrorInvalidDevice); }
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }

cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr attr, int device) {
    if (!v) return set(cudaErrorInvalidValue);
    if (device != 0) return set(cudaErrorInvalidDevice);
    switch (attr) {
        case cudaDevAttrWarpSize: *v = 32; break;
        case cudaDevAttrMaxThreadsPerBlock: *v = 1024; break;
        case cudaDevAttrMaxSharedMemoryPerBlock: *v = 48 * 1024; break;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *v = kSmemOptIn; break;
        case cudaDevAttrMultiProcessorCount: *v = dd::simt::emu::worker_count(); break;
        case cudaDevAttrComputeCapabilityMajor: *v = 8; break;
        case cudaDevAttrComputeCapabilityMinor: *v = 0; break;
        default: return set(cudaErrorInvalidValue);
    }
    return cudaSuccess;
}

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
    if (!func) return set(cudaErrorInvalidDeviceFunction);
    if (attr == cudaFuncAttributeMaxDynamicSharedMemorySize) {
        if (value < 0 || value > kSmemOptIn) return set(cudaErrorInvalidValue);
        dd::simt::emu::set_max_dynamic_smem(func, value);
    }
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    if (!free_bytes || !total_bytes) return set(cudaErrorInvalidValue);
    *free_bytes = *total_bytes = (size_t)16 << 30;  // nominal: host memory backs "device" memory
    return cudaSuccess;
}
cudaError_t cudaDriverGetVersion(int* v) {
    if (!v) return set(cudaErrorInvalidValue);
    *v = CUDART_VERSION;
    return cudaSuccess;
}
cudaError_t cudaRuntimeGetVersion(int* v) {
    if (!v) return set(cudaErrorInvalidValue);
    *v = CUDART_VERSION;
    return cudaSuccess;
}

}  // extern "C"
