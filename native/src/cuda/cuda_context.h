// What every file of the CUDA backend shares: the calling thread's device, stream and GEMM precision, statuses
// that name the kernel, and grow-only device scratch. Built into libdyndit (real cudart) and into
// libdyndit_cuda_emu.so (the SIMT emulator's cudart) alike.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "../core/error.h"
#include "gemm_tf32.cuh"

namespace dd::cuda_impl {

namespace ck = cuda_kernels;

// DD_OK, or DD_ERR_CUDA naming the kernel with CUDA's words (the sticky error is cleared).
dd_status check_launch(cudaError_t e, const char* kernel);
// Sizes the kernels take as int; the C API allows int64.
bool fits_int(int64_t v);
dd_status too_big(const char* kernel, const char* what, int64_t v);

// This thread's stream on its current device (created on first use) and the switch of that device.
cudaStream_t stream();
dd_status use_device(int index);

// This thread's GEMM arithmetic (a dd_precision; TF32 unless set).
int precision();
dd_status set_gemm_precision(int precision);
ck::GemmPrecision gemm_precision();

// Device scratch that grows and is kept, so steady-state calls allocate nothing. One per host thread and
// purpose: ops of different threads never share it.
struct Scratch {
    void* p = nullptr;
    size_t cap = 0;
    ~Scratch() { cudaFree(p); }
    void* get(size_t bytes, const char* kernel, dd_status* st) {
        if (bytes > cap) {
            cudaFree(p);
            p = nullptr;
            cap = 0;
            const size_t want = bytes < 4096 ? 4096 : bytes + bytes / 2;
            if (cudaError_t e = cudaMalloc(&p, want)) {
                *st = check_launch(e, kernel);
                return nullptr;
            }
            cap = want;
        }
        *st = DD_OK;
        return p;
    }
};

}  // namespace dd::cuda_impl
