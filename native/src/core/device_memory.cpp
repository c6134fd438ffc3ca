#include "device_memory.h"

#include <sys/mman.h>

#include <cstdlib>
#include <cstring>

#include "device_plugin.h"
#include "error.h"
#include "../cpu/gemm.h"

namespace dd {
namespace {
// Host tensors from this size on get their own pages: freeing them gives the memory back to the system at once.
// (Through malloc, glibc's growing mmap threshold keeps freed large blocks in the heap after the first ones.)
constexpr size_t kOwnPagesBytes = size_t(1) << 20;

size_t host_bytes(size_t bytes) { return bytes == 0 ? 64 : (bytes + 63) / 64 * 64; }  // 64-byte aligned rows for SIMD

// A plugin call's status as the exception the callers here expect (its message is already recorded).
void check_plugin(dd_status s) {
    if (s != DD_OK) throw Error(s, dd_last_error());
}
}  // namespace

void* device_alloc(int device_type, int device_index, size_t bytes) {
    size_t n = host_bytes(bytes);
    switch (device_type) {
        case DD_DEVICE_CPU: {
            if (n >= kOwnPagesBytes) {
                void* m = mmap(nullptr, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
                if (m == MAP_FAILED)
                    throw Error(DD_ERR_OUT_OF_MEMORY, format("cannot allocate %zu bytes of host memory", bytes));
                return m;
            }
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

void device_free(int device_type, int, void* ptr, size_t bytes) noexcept {
    if (!ptr) return;
    if (device_type == DD_DEVICE_CUDA) cuda_free(ptr);
    else if (device_type == DD_DEVICE_CUDA_EMU) cuda_emu_plugin().release(ptr);  // loaded: it allocated ptr
    else {
        cpu::forget_weights(ptr, bytes);  // a bf16 copy of freed memory must not outlive it
        if (host_bytes(bytes) >= kOwnPagesBytes) munmap(ptr, host_bytes(bytes));
        else std::free(ptr);
    }
}

void copy_to_device(int device_type, void* dst, const void* src, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_copy(dst, src, bytes, true);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().copy(dst, src, bytes, 1));
    else {
        cpu::forget_weights(dst, bytes);  // rewritten weights get a fresh bf16 copy
        std::memcpy(dst, src, bytes);
    }
}

void copy_from_device(int device_type, void* dst, const void* src, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_copy(dst, src, bytes, false);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().copy(dst, src, bytes, 0));
    else std::memcpy(dst, src, bytes);
}

void zero_memory(int device_type, void* dst, size_t bytes) {
    if (device_type == DD_DEVICE_CUDA) cuda_zero(dst, bytes);
    else if (device_type == DD_DEVICE_CUDA_EMU) check_plugin(cuda_emu_plugin().zero(dst, bytes));
    else {
        cpu::forget_weights(dst, bytes);
        std::memset(dst, 0, bytes);
    }
}

}  // namespace dd
