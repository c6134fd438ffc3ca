// A device backend that lives in its own shared library and is loaded only when asked for: the CUDA
// backend built against the SIMT emulator (libdyndit_cuda_emu.so, device "cuda-emu"). Its symbols are
// all hidden except the entry below, so its cudart shim never meets the real cudart of libdyndit.
// Both sides are built from the same headers (backend.h, vae_backend.h) in the same build, and the
// ABI number guards against a stale plugin next to a newer libdyndit.
#pragma once
#include <cstddef>

#include "backend.h"
#include "vae_backend.h"

namespace dd {

constexpr int kDevicePluginAbi = 1;

// What libdyndit gives the plugin: where its error messages go (this thread's last error).
struct DevicePluginHost {
    int abi;
    dd_status (*fail)(dd_status status, const char* message);
};

// What the plugin gives libdyndit. Every fallible call returns a status; the message went to host.fail.
struct DevicePlugin {
    int abi;
    const char* name;
    const Backend* backend;
    const VaeBackend* vae;
    dd_status (*probe)(int index);
    dd_status (*alloc)(int index, size_t bytes, void** out);
    void (*release)(void* ptr);
    dd_status (*copy)(void* dst, const void* src, size_t bytes, int to_device);
    dd_status (*zero)(void* dst, size_t bytes);
};

// The cuda-emu plugin, loaded on first use from `path` (null: libdyndit_cuda_emu.so beside libdyndit).
// Throws dd::Error (DD_ERR_CUDA_UNAVAILABLE) naming the file and the loader's reason when it cannot load.
const DevicePlugin& cuda_emu_plugin(const char* path = nullptr);

}  // namespace dd

#define DD_DEVICE_PLUGIN_ENTRY "dd_device_plugin_v1"
extern "C" typedef const dd::DevicePlugin* (*dd_device_plugin_entry)(const dd::DevicePluginHost* host);
