// Warp-level tensor-core operations for kernels written once for nvcc and the emulator:
// inline PTX under nvcc (sm_80 and newer), warp collectives following the PTX fragment tables under
// the emulator (emu_mma.h documents the tables and where they were checked).
//
//   mma_m16n8k16_bf16 / _f16(d, a, b, c): D(16x8,f32) = A(16x16,row) * B(16x8,col) + C
//   mma_m16n8k8_tf32(d, a, b, c):         same with tf32 inputs, K = 8
//   ldmatrix_x{1,2,4}[_trans](r, row):    each lane passes the shared-memory address of one 16-byte
//                                         row (lanes 8m..8m+7 -> matrix m); r[m] gets its fragment
// Include after dd_cuda.h. Hopper wgmma/TMA are deliberately not here (a later, separately
// validated step).
#pragma once
#include <cstdint>

namespace dd::simt {

#if defined(__CUDACC__)
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ < 800
#error "dd_mma.h needs sm_80 or newer (bf16 / tf32 mma.sync)"
#endif

__device__ __forceinline__ unsigned smem_addr(const void* p) {
    return static_cast<unsigned>(__cvta_generic_to_shared(p));
}

__device__ __forceinline__ void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                  const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
          "f"(c[3]));
}

__device__ __forceinline__ void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
          "f"(c[3]));
}

__device__ __forceinline__ void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2],
                                                 const float (&c)[4]) {
    asm volatile(
        "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%10,%11,%12,%13};\n"
        : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
          "f"(c[3]));
}

// "memory": the rows were written by ordinary stores before a barrier; the compiler must not
// move the load across them.
__device__ __forceinline__ void ldmatrix_x1(uint32_t (&r)[1], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n"
                 : "=r"(r[0]) : "r"(smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x2(uint32_t (&r)[2], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x1_trans(uint32_t (&r)[1], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n"
                 : "=r"(r[0]) : "r"(smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(r[0]), "=r"(r[1]) : "r"(smem_addr(row)) : "memory");
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3]) : "r"(smem_addr(row)) : "memory");
}

// fp32 -> tf32 (round to nearest, ties away), as the tensor core expects its tf32 operands.
__device__ __forceinline__ uint32_t f32_to_tf32(float x) {
    uint32_t r;
    asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(r) : "f"(x));
    return r;
}

#else  // emulator

#define DD_MMA_SITE const char *dd_file_ = __builtin_FILE(), int dd_line_ = __builtin_LINE()

inline void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                              DD_MMA_SITE) {
    emu::MmaIn in{a, b, c};
    emu::warp_collective(emu::kMmaBf16, 0xffffffffu, &in, d, dd_file_, dd_line_);
}
inline void mma_m16n8k16_f16(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                             DD_MMA_SITE) {
    emu::MmaIn in{a, b, c};
    emu::warp_collective(emu::kMmaF16, 0xffffffffu, &in, d, dd_file_, dd_line_);
}
inline void mma_m16n8k8_tf32(float (&d)[4], const uint32_t (&a)[4], const uint32_t (&b)[2], const float (&c)[4],
                             DD_MMA_SITE) {
    emu::MmaIn in{a, b, c};
    emu::warp_collective(emu::kMmaTf32, 0xffffffffu, &in, d, dd_file_, dd_line_);
}
inline void ldmatrix_x1(uint32_t (&r)[1], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<1, false>(r, row, dd_file_, dd_line_);
}
inline void ldmatrix_x1_trans(uint32_t (&r)[1], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<1, true>(r, row, dd_file_, dd_line_);
}
inline void ldmatrix_x2(uint32_t (&r)[2], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<2, false>(r, row, dd_file_, dd_line_);
}
inline void ldmatrix_x2_trans(uint32_t (&r)[2], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<2, true>(r, row, dd_file_, dd_line_);
}
inline void ldmatrix_x4(uint32_t (&r)[4], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<4, false>(r, row, dd_file_, dd_line_);
}
inline void ldmatrix_x4_trans(uint32_t (&r)[4], const void* row, DD_MMA_SITE) {
    emu::ldmatrix<4, true>(r, row, dd_file_, dd_line_);
}

// Round to nearest, ties away from zero, on the 13 mantissa bits tf32 drops (cvt.rna.tf32.f32).
inline uint32_t f32_to_tf32(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7F800000u) == 0x7F800000u) return u;  // inf / nan unchanged
    return (u + 0x1000u) & 0xFFFFE000u;
}

#undef DD_MMA_SITE
#endif

}  // namespace dd::simt
