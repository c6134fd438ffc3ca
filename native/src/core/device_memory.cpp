#include "device_memory.h"

#include <cstdlib>
#include <cstring>

#include "device_plugin.h"
#include "error.h"

namespace dd {
namespace {
// A plugin call's status as the exception the callers here expect (its message is already recorded).
void check_plugin(dd_status s) {
    if (s != DD_OK) throw Error(s, dd_last_error());
}
}  // namespace

void* device_alloc(int device_type, int device_index, size_t bytes) {
    size_t n = bytes == 0 ? 64 : (bytes + 63) / 64 * 64;  // 64-byte aligned rows for SIMD
    switch (device_type) {
        case DD_DEVICE_CPU: {
            void* p = std::aligned_alloc(64, n);
            if (!p) throw Error(DD_ERR_OUT_OF_MEMORY, format("cannot allocate %zu bytes of host memory", bytes));
            return p;
        }
        case DD_DEVICE_CUDA: {
            if (cuda_probe(device_index) != DD_OK) throw Error(DD_ERR_CUDA_UNAVAILABLE, dd_last_error());
            return cuda_alloc(device_index, n);
        }
        case DD_DEVICE_CUDA_EMU: {
            const DevicePlugin& emu = cuda_emu_plugin();
            check_plugin(emu.probe(device_index));
            void* p = nullptr;
            check_plugin(emu.alloc(device_index, n, &p));
            return p;
        }
        default:
            throw Error(DD_ERR_INVALID_ARGUMENT, format("unknown device type %d", device_type));
    }
}

void device_free(int device_type, int, void* ptr) noexcept {
    if (!ptr) return;
    if (device_type == DD_DEVICE_CUDA) cuda_free(ptr);
    else if (device_type == DD_DEVICE_CUDA_EMU) cuda_emu_plugin().release(ptr);  // loaded: it allocated ptr
    else std::free(ptr);
}

void copy_to_device(int device_type, void* dst, const void* src, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_copy(dst, src, bytes, true);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().copy(dst, src, bytes, 1));
    else std::memcpy(dst, src, bytes);
}

void copy_from_device(int device_type, void* dst, const void* src, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_copy(dst, src, bytes, false);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().copy(dst, src, bytes, 0));
    else std::memcpy(dst, src, bytes);
}

void zero_memory(int device_type, void* dst, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_zero(dst, bytes);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().zero(dst, bytes));
    else std::memset(dst, 0, bytes);
}

}  // namespace dd
