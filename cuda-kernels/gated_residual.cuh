// Row-wise residual / routing ops of DiT and DyDiT: gated residual add, row gather / scatter(-add),
// per-row scaling. fp32, row-major rows with explicit row strides (in floats), last dim contiguous.
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// h[n,t,:] += gate[n,:] * x[n,t,:] over [N,T,D]; gate rows at gate_sn, or NULL (plain residual add).
cudaError_t gated_residual_add(float* h, int64_t h_sn, int64_t h_st, const float* x, int64_t x_sn, int64_t x_st,
                               const float* gate, int64_t gate_sn, int64_t N, int64_t T, int64_t D,
                               cudaStream_t stream);

// dst[i,:] = src[index[i],:] for i < K; index device i32 in range (not checked).
cudaError_t gather_rows(const float* src, int64_t src_rs, const int32_t* index, float* dst, int64_t dst_rs, int64_t K,
                        int64_t D, cudaStream_t stream);

// dst[index[i],:] += g * src[i,:], g = gate[row_sample[i],:] when gate is non-null, else 1.
// unique_index = false: indices may repeat; rows are added with atomicAdd, so repeated rows are summed
//   in an unspecified order (the CPU adds in index order: results agree to fp32 rounding, not bitwise).
// unique_index = true: the caller guarantees no index repeats; plain read-modify-write, deterministic
//   (nvcc may fuse g * src + dst into one fma, like the CPU's SIMD kernels may).
cudaError_t scatter_add_rows(float* dst, int64_t dst_rs, const int32_t* index, const float* src, int64_t src_rs,
                             const float* gate, int64_t gate_rs, const int32_t* row_sample, int64_t K, int64_t D,
                             bool unique_index, cudaStream_t stream);

// dst[index[i],:] = src[i,:]; index without repeats (as dd_scatter_rows).
cudaError_t scatter_rows(float* dst, int64_t dst_rs, const int32_t* index, const float* src, int64_t src_rs,
                         int64_t K, int64_t D, cudaStream_t stream);

// x[r,:] *= s[r] in place, s [R] contiguous.
cudaError_t scale_rows(float* x, int64_t x_rs, const float* s, int64_t R, int64_t D, cudaStream_t stream);
}  // namespace dd::cuda_kernels
