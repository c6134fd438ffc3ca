// DiT embedding-path layout ops on the device: patchify / unpatchify, sinusoidal timestep features,
// broadcast add (fp32).
#pragma once
#include <cstdint>

#include <cuda_runtime.h>

namespace dd::cuda_kernels {
// out[n, i*gw+j, (c*p+a)*p+b] = x[n, c, i*p+a, j*p+b]; x [N,C,H,W] contiguous, H and W multiples of p;
// token rows of out at stride tok_st (>= C*p*p).
cudaError_t patchify(const float* x, float* out, int64_t tok_st, int64_t N, int64_t C, int64_t H, int64_t W,
                     int64_t p, cudaStream_t stream);

// out[n, ch, i*p+a, j*p+b] = tokens[n, i*gw+j, (a*p+b)*C + ch]; token rows at stride tok_st; out
// [N,C,H,W] contiguous.
cudaError_t unpatchify(const float* tokens, int64_t tok_st, float* out, int64_t N, int64_t C, int64_t H, int64_t W,
                       int64_t p, cudaStream_t stream);

// out[n] = [cos(t_n f_k) for k < half, sin(t_n f_k) for k < half, 0 if dim is odd], half = dim / 2,
// f_k = exp(-ln(max_period) * k / half) with the CPU's float32 exp (bit-identical frequencies); cos / sin
// of the float32 argument evaluated in double and rounded once, as the CPU does. t [N], out [N,dim]
// contiguous. max_period > 0.
cudaError_t timestep_embedding(const float* t, float* out, int64_t N, int64_t dim, float max_period,
                               cudaStream_t stream);

// y[n, r, :] += b[r, :] over y [N,R,D] (strides y_sn, y_sr), b rows at b_sr; last dims contiguous.
cudaError_t add_broadcast(float* y, int64_t y_sn, int64_t y_sr, const float* b, int64_t b_sr, int64_t N, int64_t R,
                          int64_t D, cudaStream_t stream);
}  // namespace dd::cuda_kernels
