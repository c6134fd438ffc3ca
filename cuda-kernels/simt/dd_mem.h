// Memory operations of kernel main loops, written once for nvcc and the emulator:
//   ld_shared(p) / st_shared(p, v)       shared memory loads / stores (T of 1, 2, 4, 8 or 16 bytes)
//   ld_global(p) / st_global(p, v)       global memory loads / stores
//   cp_async_ca<B>(smem, gmem[, src_bytes])  cp.async.ca.shared.global, B = 4, 8 or 16 (src_bytes < B
//   cp_async_cg16(smem, gmem[, src_bytes])   zero-fills the rest); .cg (L2 only) takes 16 B
//   cp_async_commit() / cp_async_wait<N>()   commit_group / wait_group N (N newest groups may pend)
// Under nvcc these are plain accesses and inline PTX. Under the emulator they are what the emulator
// can check and count (emu_mem.h: cp.async lands at wait_group, early reads and overwrites of buffers
// still being read fail the launch; emu_counters.h: bank wavefronts, sectors). Include after dd_cuda.h.
#pragma once
#include <cstdint>

namespace dd::simt {

// The access sizes a warp request is made of (and the emulator's counting assumes).
template <class T>
constexpr bool kMemAccessSize = sizeof(T) == 1 || sizeof(T) == 2 || sizeof(T) == 4 || sizeof(T) == 8 || sizeof(T) == 16;

#if defined(__CUDACC__)

template <class T>
__device__ __forceinline__ T ld_shared(const T* p) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    return *p;
}
template <class T>
__device__ __forceinline__ void st_shared(T* p, const T& v) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    *p = v;
}
template <class T>
__device__ __forceinline__ T ld_global(const T* p) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    return *p;
}
template <class T>
__device__ __forceinline__ void st_global(T* p, const T& v) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    *p = v;
}

template <int B>
__device__ __forceinline__ void cp_async_ca(void* smem, const void* gmem, int src_bytes = B) {
    static_assert(B == 4 || B == 8 || B == 16, "cp.async copies 4, 8 or 16 bytes");
    asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(
                     static_cast<unsigned>(__cvta_generic_to_shared(smem))),
                 "l"(gmem), "n"(B), "r"(src_bytes)
                 : "memory");
}
__device__ __forceinline__ void cp_async_cg16(void* smem, const void* gmem, int src_bytes = 16) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(
                     static_cast<unsigned>(__cvta_generic_to_shared(smem))),
                 "l"(gmem), "r"(src_bytes)
                 : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

#else  // emulator

#define DD_MEM_SITE \
    const char *dd_file_ = __builtin_FILE(), int dd_line_ = __builtin_LINE()

template <class T>
inline T ld_shared(const T* p, DD_MEM_SITE) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    emu::smem_access(emu::kSmemLoad, p, sizeof(T), dd_file_, dd_line_);
    return *p;
}
template <class T>
inline void st_shared(T* p, const T& v, DD_MEM_SITE) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    emu::smem_access(emu::kSmemStore, p, sizeof(T), dd_file_, dd_line_);
    *p = v;
}
template <class T>
inline T ld_global(const T* p, DD_MEM_SITE) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    emu::global_access(emu::kGlobalLoad, p, sizeof(T), dd_file_, dd_line_);
    return *p;
}
template <class T>
inline void st_global(T* p, const T& v, DD_MEM_SITE) {
    static_assert(kMemAccessSize<T>, "1, 2, 4, 8 or 16-byte accesses");
    emu::global_access(emu::kGlobalStore, p, sizeof(T), dd_file_, dd_line_);
    *p = v;
}
template <int B>
inline void cp_async_ca(void* smem, const void* gmem, int src_bytes = B, DD_MEM_SITE) {
    static_assert(B == 4 || B == 8 || B == 16, "cp.async copies 4, 8 or 16 bytes");
    emu::cp_async(smem, gmem, B, (unsigned)src_bytes, false, dd_file_, dd_line_);
}
inline void cp_async_cg16(void* smem, const void* gmem, int src_bytes = 16, DD_MEM_SITE) {
    emu::cp_async(smem, gmem, 16, (unsigned)src_bytes, true, dd_file_, dd_line_);
}
inline void cp_async_commit() { emu::cp_async_commit(); }
template <int N>
inline void cp_async_wait() {
    static_assert(N >= 0, "wait_group takes a non-negative count");
    emu::cp_async_wait(N);
}

#undef DD_MEM_SITE
#endif

}  // namespace dd::simt
