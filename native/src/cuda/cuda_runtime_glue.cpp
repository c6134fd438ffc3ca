// CUDA runtime calls of the library (static cudart). libcuda is only looked up at the first call, so
// a machine with no driver loads the library fine and gets CUDA's own reason here.
#include <cuda_runtime.h>

#include "../core/device_memory.h"
#include "../core/error.h"

#ifndef DYNDIT_CUDA_ARCHS
#define DYNDIT_CUDA_ARCHS ""
#endif

namespace dd {

bool cuda_compiled() { return true; }
const char* cuda_archs() { return DYNDIT_CUDA_ARCHS; }

dd_status cuda_probe(int index) {
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        cudaGetLastError();  // clear the sticky-free error so later probes report afresh
        return fail(DD_ERR_CUDA_UNAVAILABLE, format("CUDA is not usable: %s (%s)", cudaGetErrorString(e),
                                                    cudaGetErrorName(e)));
    }
    if (index < 0 || index >= count)
        return fail(DD_ERR_CUDA_UNAVAILABLE, format("CUDA device %d does not exist (%d device(s) found)", index, count));
    return DD_OK;
}

void* cuda_alloc(int index, size_t bytes) {
    cudaError_t e = cudaSetDevice(index);
    void* p = nullptr;
    if (e == cudaSuccess) e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation)
        throw Error(DD_ERR_OUT_OF_MEMORY, format("cudaMalloc of %zu bytes on device %d: %s", bytes, index,
                                                 cudaGetErrorString(e)));
    if (e != cudaSuccess) throw Error(DD_ERR_CUDA, format("cudaMalloc on device %d: %s", index, cudaGetErrorString(e)));
    return p;
}

void cuda_free(void* ptr) noexcept { cudaFree(ptr); }

void cuda_copy(void* dst, const void* src, size_t bytes, bool to_device) {
    cudaError_t e = cudaMemcpy(dst, src, bytes, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost);
    if (e != cudaSuccess) throw Error(DD_ERR_CUDA, format("cudaMemcpy: %s", cudaGetErrorString(e)));
}

void cuda_zero(void* dst, size_t bytes) {
    cudaError_t e = cudaMemset(dst, 0, bytes);
    if (e != cudaSuccess) throw Error(DD_ERR_CUDA, format("cudaMemset: %s", cudaGetErrorString(e)));
}

}  // namespace dd
