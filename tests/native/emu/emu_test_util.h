// Helpers shared by the emulator tests: fresh random inputs (seed printed on failure, fixed with
// DYNDIT_TEST_SEED), "device" buffers through the cudart shim, bf16 rounding.
#pragma once
#include "simt/dd_cuda.h"  // first: defines the CUDA keywords before any CUDA header

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace emu_test {

inline uint64_t fresh_seed() {
    const char* e = std::getenv("DYNDIT_TEST_SEED");
    if (e && *e) return std::strtoull(e, nullptr, 0);
    return ((uint64_t)std::random_device{}() << 32) ^ std::random_device{}();
}

// Seeded generator; SCOPED_TRACE the returned text so a failure prints how to reproduce it.
struct Rng {
    uint64_t seed = fresh_seed();
    std::mt19937_64 gen{seed};
    std::string trace() const { return "DYNDIT_TEST_SEED=" + std::to_string(seed); }
    float normal() { return std::normal_distribution<float>(0.0f, 1.0f)(gen); }
    float uniform(float lo, float hi) { return std::uniform_real_distribution<float>(lo, hi)(gen); }
    int integer(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(gen); }
};

// cudaMalloc'd buffer (host memory under the emulator), freed on scope exit.
template <class T>
struct DevBuf {
    T* p = nullptr;
    size_t n = 0;
    explicit DevBuf(size_t count) : n(count) {
        EXPECT_EQ(cudaMalloc(reinterpret_cast<void**>(&p), count * sizeof(T)), cudaSuccess);
    }
    explicit DevBuf(const std::vector<T>& v) : DevBuf(v.size()) {
        EXPECT_EQ(cudaMemcpy(p, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice), cudaSuccess);
    }
    ~DevBuf() { cudaFree(p); }
    DevBuf(const DevBuf&) = delete;
    DevBuf& operator=(const DevBuf&) = delete;
    std::vector<T> get() const {
        std::vector<T> v(n);
        EXPECT_EQ(cudaMemcpy(v.data(), p, n * sizeof(T), cudaMemcpyDeviceToHost), cudaSuccess);
        return v;
    }
};

inline __nv_bfloat16 to_bf16(float x) { return __float2bfloat16(x); }
inline float from_bf16(__nv_bfloat16 x) { return __bfloat162float(x); }
// bf16 activations as the kernels store them: the 16 bits of a value rounded to nearest even, and back.
inline uint16_t bf16_bits(float v) {
    const __nv_bfloat16 b = __float2bfloat16_rn(v);
    uint16_t u;
    std::memcpy(&u, &b, 2);
    return u;
}
inline float bf16_float(uint16_t u) {
    const uint32_t w = (uint32_t)u << 16;
    float f;
    std::memcpy(&f, &w, 4);
    return f;
}

// Forces a fiber schedule for one scope, whatever DYNDIT_EMU_SCHEDULE says.
struct ScheduleScope {
    explicit ScheduleScope(dd::simt::emu::Schedule s) { dd::simt::emu::set_schedule_override(&s); }
    ~ScheduleScope() { dd::simt::emu::set_schedule_override(nullptr); }
};

}  // namespace emu_test
