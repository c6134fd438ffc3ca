// What the CPU backend's oneDNN primitives share (gemm.cpp, vae_conv_dnnl.cpp): the CPU engine, each thread's
// stream, 64-byte aligned per-thread buffers that only grow (scratchpads, converted activations), memory handles
// over caller pointers.
#pragma once
#include <cstdlib>
#include <new>
#include <oneapi/dnnl/dnnl.hpp>
#include <unordered_map>

namespace dd::cpu {

inline dnnl::engine& dnnl_engine() {
    static dnnl::engine e(dnnl::engine::kind::cpu, 0);
    return e;
}

inline dnnl::stream& thread_stream() {
    thread_local dnnl::stream s(dnnl_engine());
    return s;
}

struct GrowBuffer {
    void* p = nullptr;
    size_t size = 0;
    void* get(size_t bytes) {
        if (bytes > size) {
            std::free(p);
            size = (bytes + 4095) / 4096 * 4096;
            p = std::aligned_alloc(64, size);
            if (!p) {
                size = 0;
                throw std::bad_alloc();
            }
        }
        return p;
    }
    GrowBuffer() = default;
    GrowBuffer(const GrowBuffer&) = delete;
    GrowBuffer& operator=(const GrowBuffer&) = delete;
    ~GrowBuffer() { std::free(p); }
};

inline dnnl::memory dnnl_mem(const dnnl::memory::desc& d, const void* p) {
    return dnnl::memory(d, dnnl_engine(), const_cast<void*>(p));
}

using DnnlArgs = std::unordered_map<int, dnnl::memory>;

// Primitives run with user scratchpads (attr scratchpad_mode::user): the calling thread's buffer serves them all.
inline void add_scratchpad(DnnlArgs& args, size_t bytes, GrowBuffer& buf) {
    if (bytes > 0)
        args.emplace(DNNL_ARG_SCRATCHPAD,
                     dnnl_mem(dnnl::memory::desc({(int64_t)bytes}, dnnl::memory::data_type::u8, {1}), buf.get(bytes)));
}

}  // namespace dd::cpu
