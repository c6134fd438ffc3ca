// Linked when the library is built without nvcc: every CUDA request says so.
#include "backend.h"
#include "vae_backend.h"
#include "device_memory.h"
#include "error.h"

namespace dd {

bool cuda_compiled() { return false; }
const char* cuda_archs() { return ""; }
dd_status cuda_probe(int) {
    return fail(DD_ERR_CUDA_UNAVAILABLE, "this dyndit library was built without CUDA (nvcc was not found at build time)");
}
void* cuda_alloc(int, size_t) { throw Error(DD_ERR_CUDA_UNAVAILABLE, "this dyndit library was built without CUDA"); }
void cuda_free(void*) noexcept {}
void cuda_copy(void*, const void*, size_t, bool) {
    throw Error(DD_ERR_CUDA_UNAVAILABLE, "this dyndit library was built without CUDA");
}
void cuda_zero(void*, size_t) { throw Error(DD_ERR_CUDA_UNAVAILABLE, "this dyndit library was built without CUDA"); }
const Backend* cuda_backend() { return nullptr; }
const VaeBackend* cuda_vae_backend() { return nullptr; }

}  // namespace dd
