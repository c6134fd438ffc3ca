// Entry of libdyndit_cuda_emu.so: the CUDA backend (backend_cuda.cpp) and runtime glue built against the
// SIMT emulator, handed to libdyndit as a DevicePlugin. The only exported symbol of that library.
#include "../core/device_memory.h"
#include "../core/device_plugin.h"
#include "../core/error.h"

namespace dd {
namespace {

dd_status probe(int index) { return cuda_probe(index); }

dd_status alloc(int index, size_t bytes, void** out) {
    return guard("cuda-emu alloc", [&] {
        *out = cuda_alloc(index, bytes);
        return DD_OK;
    });
}

void release(void* ptr) { cuda_free(ptr); }

dd_status copy(void* dst, const void* src, size_t bytes, int to_device) {
    return guard("cuda-emu copy", [&] {
        cuda_copy(dst, src, bytes, to_device != 0);
        return DD_OK;
    });
}

dd_status zero(void* dst, size_t bytes) {
    return guard("cuda-emu zero", [&] {
        cuda_zero(dst, bytes);
        return DD_OK;
    });
}

}  // namespace
}  // namespace dd

extern "C" __attribute__((visibility("default"))) const dd::DevicePlugin* dd_device_plugin_v1(
    const dd::DevicePluginHost* host) {
    if (!host || host->abi != dd::kDevicePluginAbi || !host->fail) return nullptr;
    dd::forward_errors_to(host->fail);
    static const dd::DevicePlugin plugin{dd::kDevicePluginAbi, "cuda-emu", dd::cuda_backend(), dd::cuda_vae_backend(),
                                         dd::probe, dd::alloc, dd::release, dd::copy, dd::zero};
    return &plugin;
}
