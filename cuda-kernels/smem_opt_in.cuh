// cudaFuncSetAttribute(MaxDynamicSharedMemorySize) once per device and kernel instantiation, for kernels with more
// than the default 48 KiB of dynamic shared memory (host code of the kernel files).
#pragma once
#include <atomic>
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {

// Tag: one flag set per distinct Tag (use the kernel's own template arguments). Devices 0..63 remembered;
// others set the attribute on every call.
template <class Tag, class Kernel>
cudaError_t opt_in_dynamic_smem(Kernel kernel, size_t bytes) {
    static std::atomic<uint64_t> done{0};
    int dev = 0;
    if (cudaError_t e = cudaGetDevice(&dev)) return e;
    const uint64_t bit = dev >= 0 && dev < 64 ? 1ull << dev : 0;
    if (bit && (done.load() & bit)) return cudaSuccess;
    if (cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes)) return e;
    done.fetch_or(bit);
    return cudaSuccess;
}

}  // namespace dd::cuda_kernels
