// Library facts for `dyndit info`: version, CPU and chosen kernel set, threads, GEMM engine (oneDNN), CUDA.
#include <omp.h>

#include <algorithm>
#include <string>

#include "backend.h"
#include "device_memory.h"
#include "error.h"
#include "dyndit/dyndit.h"

#ifndef DYNDIT_VERSION
#define DYNDIT_VERSION "0.0.0-dev"
#endif

#include "../cpu/cpu_kernels.h"
#include "../cpu/cpu_threads.h"
#include "../cpu/gemm.h"

namespace dd::cpu {
std::string cpu_brand();
std::string cpu_feature_list();
}  // namespace dd::cpu

extern "C" {

const char* dd_version(void) { return DYNDIT_VERSION; }

const char* dd_cpu_name(void) {
    static const std::string s = dd::cpu::cpu_brand();
    return s.c_str();
}

const char* dd_cpu_features(void) {
    static const std::string s = dd::cpu::cpu_feature_list();
    return s.c_str();
}

const char* dd_cpu_isa(void) { return dd::cpu::kernels().isa; }

const char* dd_blas_info(void) {
    thread_local std::string s;
    dd::cpu::apply_thread_count();
    s = dd::cpu::engine_info();
    return s.c_str();
}

dd_status dd_cpu_matmul_kernel(int64_t m, int64_t n, int64_t k, int precision, char* buf, int64_t cap) {
    return dd::guard("dd_cpu_matmul_kernel", [&]() -> dd_status {
        if (m < 1 || n < 1 || k < 1 || !buf || cap < 1)
            return dd::fail(DD_ERR_INVALID_ARGUMENT,
                            dd::format("dd_cpu_matmul_kernel: sizes must be >= 1, got %lld x %lld x %lld and a "
                                       "buffer of %lld bytes",
                                       (long long)m, (long long)n, (long long)k, (long long)cap));
        const bool bf16 = precision == DD_PRECISION_BF16;
        if (bf16 && !dd::cpu::bf16_supported()) return dd::cpu::set_thread_precision(DD_PRECISION_BF16);  // refusal
        dd::cpu::apply_thread_count();
        const std::string impl = dd::cpu::matmul_impl(m, n, k, bf16);
        const size_t len = std::min<size_t>(impl.size(), size_t(cap - 1));
        impl.copy(buf, len);
        buf[len] = 0;
        return DD_OK;
    });
}

int dd_num_threads(void) {
    dd::cpu::apply_thread_count();
    return omp_get_max_threads();
}

// Threads are OpenMP's only (oneDNN shares the one libgomp and runs on the calling thread's team). OpenMP's team
// size is a per-thread setting; the count is kept process-wide and applied to each thread's ops.
void dd_set_num_threads(int n) {
    if (n <= 0) n = omp_get_num_procs();
    dd::cpu::g_threads.store(n, std::memory_order_relaxed);
    omp_set_num_threads(n);
}

int dd_cuda_compiled(void) { return dd::cuda_compiled() ? 1 : 0; }
const char* dd_cuda_archs(void) { return dd::cuda_archs(); }
dd_status dd_cuda_probe(int index) { return dd::cuda_probe(index); }

}  // extern "C"
