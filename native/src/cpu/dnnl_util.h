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

// A weight layout's identity for the weight cache (gemm.h cached_weights): data type, strides and blocking hashed;
// never 0.
inline uint64_t layout_id(const dnnl::memory::desc& d) {
    uint64_t h = 1469598103934665603ull ^ uint64_t(d.get_data_type());
    auto mix = [&](const dnnl::memory::dims& v) {
        for (int64_t x : v) h = (h ^ uint64_t(x)) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    };
    mix(d.get_strides());
    mix(d.get_inner_blks());
    mix(d.get_inner_idxs());
    return h | 1;
}

// Primitives run with user scratchpads (attr scratchpad_mode::user): the calling thread's buffer serves them all.
inline void add_scratchpad(DnnlArgs& args, size_t bytes, GrowBuffer& buf) {
    if (bytes > 0)
        args.emplace(DNNL_ARG_SCRATCHPAD,
                     dnnl_mem(dnnl::memory::desc({(int64_t)bytes}, dnnl::memory::data_type::u8, {1}), buf.get(bytes)));
}

}  // namespace dd::cpu
