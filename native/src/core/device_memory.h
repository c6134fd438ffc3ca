// Allocation and host<->device copies per device type. CUDA paths live in native/src/cuda; without
// CUDA in the build they report why through DD_ERR_CUDA_UNAVAILABLE.
#pragma once
#include <cstddef>

#include "dyndit/dyndit.h"

namespace dd {
// Throws dd::Error on failure.
void* device_alloc(int device_type, int device_index, size_t bytes);
void device_free(int device_type, int device_index, void* ptr, size_t bytes) noexcept;  // bytes as allocated
void copy_to_device(int device_type, void* dst, const void* src, size_t bytes);
void copy_from_device(int device_type, void* dst, const void* src, size_t bytes);
void zero_memory(int device_type, void* dst, size_t bytes);

// CUDA runtime glue (cuda_runtime_glue.cpp, or cuda_absent.cpp when the build has no CUDA).
bool cuda_compiled();
const char* cuda_archs();
dd_status cuda_probe(int index);  // sets the last error with CUDA's reason on failure
void* cuda_alloc(int index, size_t bytes);
void cuda_free(void* ptr) noexcept;
void cuda_copy(void* dst, const void* src, size_t bytes, bool to_device);
void cuda_zero(void* dst, size_t bytes);
}  // namespace dd
