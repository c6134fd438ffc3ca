// One warp per (query, head, sample): lane l holds channels l, l + 32, l + 64, l + 96 of the query and of the
// output accumulator; each key's score is a warp-wide dot product (shuffle reduction), folded into an online
// softmax (running max and sum, accumulator rescaled when the max grows). Accurate expf: results are compared
// with the CPU's attention at fp32 tolerances.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <cfloat>
#include <cstdint>

#include "attention_rows.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kMaxPerLane = 4;  // Dh <= 128

__global__ void __launch_bounds__(32) attention_rows_kernel(AttentionRowsArgs a) {
    const int i = blockIdx.x, h = blockIdx.y, n = blockIdx.z, lane = threadIdx.x;
    const float* q = a.q + (int64_t)n * a.q_sn + (int64_t)i * a.q_st + (int64_t)h * a.q_sh;
    float qv[kMaxPerLane], acc[kMaxPerLane];
    DD_UNROLL
    for (int c = 0; c < kMaxPerLane; ++c) {
        const int d = lane + 32 * c;
        qv[c] = d < a.Dh ? q[d] * a.scale : 0.0f;
        acc[c] = 0.0f;
    }
    float m = -FLT_MAX, l = 0.0f;
    for (int j = 0; j < a.Tk; ++j) {
        const float* k = a.k + (int64_t)n * a.k_sn + (int64_t)j * a.k_st + (int64_t)h * a.k_sh;
        float s = 0.0f;
        DD_UNROLL
        for (int c = 0; c < kMaxPerLane; ++c) {
            const int d = lane + 32 * c;
            if (d < a.Dh) s += qv[c] * k[d];
        }
        DD_UNROLL
        for (int o = 16; o > 0; o >>= 1) s += __shfl_xor_sync(0xffffffffu, s, o);
        const float m_new = fmaxf(m, s);
        const float rescale = expf(m - m_new), p = expf(s - m_new);
        l = l * rescale + p;
        const float* v = a.v + (int64_t)n * a.v_sn + (int64_t)j * a.v_st + (int64_t)h * a.v_sh;
        DD_UNROLL
        for (int c = 0; c < kMaxPerLane; ++c) {
            const int d = lane + 32 * c;
            acc[c] = acc[c] * rescale + (d < a.Dh ? p * v[d] : 0.0f);
        }
        m = m_new;
    }
    float* o = a.o + (int64_t)n * a.o_sn + (int64_t)i * a.o_st + (int64_t)h * a.o_sh;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    DD_UNROLL
    for (int c = 0; c < kMaxPerLane; ++c) {
        const int d = lane + 32 * c;
        if (d < a.Dh) o[d] = acc[c] * inv;
    }
}

}  // namespace

cudaError_t attention_rows(const AttentionRowsArgs& a, cudaStream_t stream) {
    if (a.N < 0 || a.Tq < 0 || a.Tk < 0 || a.H < 0 || a.Dh < 1 || a.Dh > 32 * kMaxPerLane || a.Tq > 0x7fffffff ||
        a.H > 65535 || a.N > 65535)
        return cudaErrorInvalidValue;
    if (a.N == 0 || a.Tq == 0 || a.H == 0) return cudaSuccess;
    if (!a.q || !a.o || (a.Tk > 0 && (!a.k || !a.v))) return cudaErrorInvalidValue;
    return dd_launch(attention_rows_kernel, dim3((unsigned)a.Tq, (unsigned)a.H, (unsigned)a.N), 32, 0, stream, a);
}

}  // namespace dd::cuda_kernels
