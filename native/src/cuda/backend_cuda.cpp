// Host side of the CUDA backend: launches the kernels of cuda-kernels/ and turns CUDA errors into
// statuses naming the kernel. Ops without a kernel yet are reported as unsupported by the dispatcher.
#include <cuda_runtime.h>

#include "../core/backend.h"
#include "../core/error.h"
#include "activations.cuh"

namespace dd {
namespace {

dd_status check_launch(cudaError_t e, const char* kernel) {
    if (e != cudaSuccess) return fail(DD_ERR_CUDA, format("CUDA kernel %s: %s", kernel, cudaGetErrorString(e)));
    return DD_OK;
}

dd_status gelu_tanh(const UnaryParams& p) {
    return check_launch(cuda_kernels::gelu_tanh(p.x, p.y, p.n, nullptr), "gelu_tanh");
}
dd_status silu(const UnaryParams& p) { return check_launch(cuda_kernels::silu(p.x, p.y, p.n, nullptr), "silu"); }

// Positional order of Backend's members; nullptr = no CUDA kernel yet.
Backend make_cuda_backend() {
    Backend b{};  // members without a CUDA kernel stay null: the dispatcher reports them unsupported
    b.name = "cuda";
    b.gelu_tanh = gelu_tanh;
    b.silu = silu;
    return b;
}

const Backend cuda = make_cuda_backend();

}  // namespace

const Backend* cuda_backend() { return &cuda; }

}  // namespace dd
