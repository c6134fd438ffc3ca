// CUDA runtime calls of the library (static cudart). libcuda is only looked up at the first call, so
// a machine with no driver loads the library fine and gets CUDA's own reason here.
#include <cuda_runtime.h>

#include <mutex>
#include <unordered_map>

#include "../core/device_memory.h"
#include "../core/error.h"
#include "bf16_weights.h"

#ifndef DYNDIT_CUDA_ARCHS
#define DYNDIT_CUDA_ARCHS ""
#endif

namespace dd {
namespace {
// Sizes of the tensor allocations (cuda_alloc), so a free can drop the bf16 weight copies of everything in it.
size_t allocation_bytes(void* p, bool erase, size_t bytes = 0) {  // lookups (bytes 0) do not allocate
    static std::mutex mu;
    static auto* sizes = new std::unordered_map<void*, size_t>;  // never destroyed: frees during exit
    std::lock_guard<std::mutex> lock(mu);
    if (bytes) return (*sizes)[p] = bytes;
    auto it = sizes->find(p);
    if (it == sizes->end()) return 0;
    const size_t n = it->second;
    if (erase) sizes->erase(it);
    return n;
}
}  // namespace

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
    allocation_bytes(p, false, bytes);
    return p;
}

void cuda_free(void* ptr) noexcept {
    forget_bf16_weights(ptr, allocation_bytes(ptr, true));  // a bf16 copy of freed weights must not outlive them
    cudaFree(ptr);
}

void cuda_copy(void* dst, const void* src, size_t bytes, bool to_device) {
    cudaError_t e = cudaMemcpy(dst, src, bytes, to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost);
    if (to_device) refresh_bf16_weights(dst, bytes);  // rewritten weights: their bf16 copies rounded again
    if (e != cudaSuccess) throw Error(DD_ERR_CUDA, format("cudaMemcpy: %s", cudaGetErrorString(e)));
}

void cuda_zero(void* dst, size_t bytes) {
    cudaError_t e = cudaMemset(dst, 0, bytes);
    refresh_bf16_weights(dst, bytes);
    if (e != cudaSuccess) throw Error(DD_ERR_CUDA, format("cudaMemset: %s", cudaGetErrorString(e)));
}

}  // namespace dd
