// Loads the cuda-emu device plugin on first use (dlopen, RTLD_LOCAL): nothing of it is mapped into a
// process that never asks for the emulated device.
#include "device_plugin.h"

#include <dlfcn.h>

#include <atomic>
#include <mutex>
#include <string>

#include "error.h"

namespace dd {
namespace {

dd_status host_fail(dd_status status, const char* message) { return fail(status, message ? message : ""); }
const DevicePluginHost kHost{kDevicePluginAbi, host_fail};

std::mutex g_mutex;
std::atomic<const DevicePlugin*> g_plugin{nullptr};  // set once; every op on cuda-emu reads it

// libdyndit_cuda_emu.so in the folder libdyndit itself was loaded from.
std::string default_plugin_path() {
    Dl_info info{};
    std::string dir;
    if (dladdr(reinterpret_cast<void*>(&host_fail), &info) && info.dli_fname) {
        dir = info.dli_fname;
        const size_t slash = dir.rfind('/');
        dir = slash == std::string::npos ? std::string() : dir.substr(0, slash + 1);
    }
    return dir + "libdyndit_cuda_emu.so";
}

}  // namespace

const DevicePlugin& cuda_emu_plugin(const char* path) {
    if (const DevicePlugin* p = g_plugin.load(std::memory_order_acquire)) return *p;  // no lock once loaded
    std::lock_guard<std::mutex> lock(g_mutex);
    if (const DevicePlugin* p = g_plugin.load(std::memory_order_relaxed)) return *p;
    const std::string file = path && *path ? std::string(path) : default_plugin_path();
    void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char* why = dlerror();
        throw Error(DD_ERR_CUDA_UNAVAILABLE, format("the emulated CUDA device (cuda-emu) cannot be loaded from %s: %s",
                                                    file.c_str(), why ? why : "unknown dlopen error"));
    }
    auto entry = reinterpret_cast<dd_device_plugin_entry>(dlsym(handle, DD_DEVICE_PLUGIN_ENTRY));
    const DevicePlugin* plugin = entry ? entry(&kHost) : nullptr;
    if (!plugin || plugin->abi != kDevicePluginAbi || !plugin->backend || !plugin->vae) {
        dlclose(handle);
        throw Error(DD_ERR_CUDA_UNAVAILABLE,
                    format("%s is not a dyndit device plugin of ABI %d (stale build?)", file.c_str(), kDevicePluginAbi));
    }
    g_plugin.store(plugin, std::memory_order_release);  // kept loaded for the life of the process
    return *plugin;
}

const Backend& backend_for(int device_type) {
    const Backend* b = nullptr;
    switch (device_type) {
        case DD_DEVICE_CPU: b = cpu_backend(); break;
        case DD_DEVICE_CUDA:
            b = cuda_backend();
            if (!b) throw Error(DD_ERR_CUDA_UNAVAILABLE, "this dyndit library was built without CUDA");
            break;
        case DD_DEVICE_CUDA_EMU: b = cuda_emu_plugin().backend; break;
        default: throw Error(DD_ERR_INVALID_ARGUMENT, format("unknown device type %d", device_type));
    }
    return *b;
}

}  // namespace dd

extern "C" dd_status dd_cuda_emu_load(const char* path) {
    return dd::guard("dd_cuda_emu_load", [&] {
        dd::cuda_emu_plugin(path);
        return DD_OK;
    });
}
