// The CUDA backend's per-thread state: stream per device, current device, GEMM precision; error statuses.
#include "cuda_context.h"

#include <climits>

namespace dd::cuda_impl {
namespace {
// Each host thread launches into its own stream per device, created on first use. It is a blocking stream, so
// the synchronous copies of tensor reads and writes (legacy default stream) order themselves after the kernels,
// and it is capturable into a CUDA graph (the legacy stream is not). The device is the one the last op's tensors
// live on (use_device).
constexpr int kMaxDevices = 16;
struct ThreadStreams {
    int device = 0;
    cudaStream_t s[kMaxDevices] = {};
    ~ThreadStreams() {
        for (int i = 0; i < kMaxDevices; ++i)
            if (s[i]) cudaStreamDestroy(s[i]);
    }
};
thread_local ThreadStreams t_streams;

// Per host thread, like the stream: two models of different precision on two threads do not race. TF32 by
// default, as the official sampler runs its matmuls.
thread_local int t_precision = DD_PRECISION_TF32;
}  // namespace

cudaStream_t stream() {
    cudaStream_t& s = t_streams.s[t_streams.device];
    if (!s && cudaStreamCreate(&s) != cudaSuccess) {
        cudaGetLastError();
        s = nullptr;  // launches fall back to the legacy stream, still in order
    }
    return s;
}

dd_status use_device(int index) {
    if (index < 0 || index >= kMaxDevices)
        return fail(DD_ERR_UNSUPPORTED, format("CUDA device %d: this build handles devices 0..%d", index, kMaxDevices - 1));
    // Always set: a tensor allocation on another device (cuda_alloc) may have changed the current one. Cheap when
    // it is already current.
    if (cudaError_t e = cudaSetDevice(index)) {
        cudaGetLastError();
        return fail(DD_ERR_CUDA, format("cudaSetDevice(%d): %s", index, cudaGetErrorString(e)));
    }
    t_streams.device = index;
    return DD_OK;
}


dd_status check_launch(cudaError_t e, const char* kernel) {
    if (e == cudaSuccess) return DD_OK;
    cudaGetLastError();  // clear it: the next op starts clean
    return fail(DD_ERR_CUDA, format("CUDA kernel %s: %s (%s)", kernel, cudaGetErrorString(e), cudaGetErrorName(e)));
}

// Sizes the kernels take as int; the C API allows int64.
bool fits_int(int64_t v) { return v >= 0 && v <= INT_MAX; }
dd_status too_big(const char* kernel, const char* what, int64_t v) {
    return fail(DD_ERR_UNSUPPORTED, format("CUDA kernel %s: %s = %lld exceeds the kernel's int range", kernel, what,
                                           (long long)v));
}

ck::GemmPrecision gemm_precision() {
    switch (t_precision) {
        case DD_PRECISION_FP32: return ck::GemmPrecision::kFp32;
        case DD_PRECISION_BF16: return ck::GemmPrecision::kBf16;
        default: return ck::GemmPrecision::kTf32;
    }
}

dd_status set_gemm_precision(int precision) {
    if (precision != DD_PRECISION_FP32 && precision != DD_PRECISION_TF32 && precision != DD_PRECISION_BF16)
        return fail(DD_ERR_INVALID_ARGUMENT, format("unknown GEMM precision %d (fp32 = 0, tf32 = 1, bf16 = 2)", precision));
    t_precision = precision;
    return DD_OK;
}


int precision() { return t_precision; }

}  // namespace dd::cuda_impl
