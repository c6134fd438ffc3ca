// Run-time CPU feature detection and the choice of kernel set (never -march=native in the library).
#include <cpuid.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "cpu_kernels.h"

namespace dd::cpu {
namespace {

bool has_avx512() {
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("fma");
}
bool has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

const Kernels& choose() {
    if (const char* forced = std::getenv("DYNDIT_ISA")) {
        if (const Kernels* k = kernels_for(forced)) return *k;
    }
    if (has_avx512()) return kernels_avx512();
    if (has_avx2()) return kernels_avx2();
    return kernels_sse2();
}

}  // namespace

const Kernels* kernels_for(const char* isa) {
    if (!std::strcmp(isa, "avx512")) return has_avx512() ? &kernels_avx512() : nullptr;
    if (!std::strcmp(isa, "avx2")) return has_avx2() ? &kernels_avx2() : nullptr;
    if (!std::strcmp(isa, "sse2")) return &kernels_sse2();
    return nullptr;
}

const Kernels& kernels() {
    static const Kernels& k = choose();
    return k;
}

std::string cpu_brand() {
    unsigned int regs[12] = {};
    if (__get_cpuid_max(0x80000000u, nullptr) < 0x80000004u) return "unknown CPU";
    for (unsigned int i = 0; i < 3; ++i)
        __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    std::string s(reinterpret_cast<const char*>(regs), sizeof regs);
    s = s.c_str();
    size_t a = s.find_first_not_of(' ');
    return a == std::string::npos ? "unknown CPU" : s.substr(a);
}

std::string cpu_feature_list() {
    std::string s;
    auto add = [&](const char* name, bool on) {
        if (on) s += (s.empty() ? "" : " ") + std::string(name);
    };
    add("sse4.2", __builtin_cpu_supports("sse4.2"));
    add("avx", __builtin_cpu_supports("avx"));
    add("avx2", __builtin_cpu_supports("avx2"));
    add("fma", __builtin_cpu_supports("fma"));
    add("avx512f", __builtin_cpu_supports("avx512f"));
    add("avx512bw", __builtin_cpu_supports("avx512bw"));
    add("avx512vl", __builtin_cpu_supports("avx512vl"));
    add("avx512dq", __builtin_cpu_supports("avx512dq"));
    add("avx512bf16", __builtin_cpu_supports("avx512bf16"));
    add("avx512fp16", __builtin_cpu_supports("avx512fp16"));
    return s;
}

}  // namespace dd::cpu
