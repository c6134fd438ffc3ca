// Row-wise residual and routing ops. Each is memory bound: a 2-D grid, blockIdx.x over column chunks
// of kThreads, blockIdx.y (grid-stride) over rows, so a row's reads and writes are coalesced and no
// per-element 64-bit division is needed.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "gated_residual.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxGridY = 65535;

// One op over rows: the row r -> (destination, source, gate) mapping differs per op.
enum class RowOp { kGatedResidual, kGather, kScatterAdd, kScatterAddAtomic, kScatter, kScale };

struct RowArgs {
    float* dst; int64_t dst_a, dst_b;  // gated residual: dst row = n * dst_a + t * dst_b; others: row * dst_a
    const float* src; int64_t src_a, src_b;
    const float* gate; int64_t gate_rs;
    const int32_t* index;
    const int32_t* row_sample;
    int64_t rows, T, D;
};

template <RowOp Op>
__global__ void __launch_bounds__(kThreads) row_op_kernel(RowArgs a) {
    const int64_t c = (int64_t)blockIdx.x * kThreads + threadIdx.x;
    if (c >= a.D) return;  // no barriers below: early exit is fine
    for (int64_t r = blockIdx.y; r < a.rows; r += gridDim.y) {
        if constexpr (Op == RowOp::kGatedResidual) {
            const int64_t n = r / a.T, t = r % a.T;
            const float xv = a.src[n * a.src_a + t * a.src_b + c];
            float* h = a.dst + n * a.dst_a + t * a.dst_b + c;
            *h += a.gate ? a.gate[n * a.gate_rs + c] * xv : xv;
        } else if constexpr (Op == RowOp::kGather) {
            a.dst[r * a.dst_a + c] = a.src[(int64_t)a.index[r] * a.src_a + c];
        } else if constexpr (Op == RowOp::kScatter) {
            a.dst[(int64_t)a.index[r] * a.dst_a + c] = a.src[r * a.src_a + c];
        } else if constexpr (Op == RowOp::kScale) {
            a.dst[r * a.dst_a + c] *= a.src[r];
        } else {  // scatter-add, plain or atomic
            float v = a.src[r * a.src_a + c];
            if (a.gate) v *= a.gate[(int64_t)a.row_sample[r] * a.gate_rs + c];
            float* d = a.dst + (int64_t)a.index[r] * a.dst_a + c;
            if constexpr (Op == RowOp::kScatterAddAtomic)
                atomicAdd(d, v);
            else
                *d += v;
        }
    }
}

template <RowOp Op>
cudaError_t launch(const RowArgs& a, cudaStream_t stream) {
    if (a.rows < 0 || a.D < 0 || !a.dst || !a.src) return cudaErrorInvalidValue;
    if (a.rows == 0 || a.D == 0) return cudaSuccess;
    const int64_t gx = (a.D + kThreads - 1) / kThreads;
    if (gx > 0x7fffffff) return cudaErrorInvalidValue;
    const dim3 grid((unsigned)gx, (unsigned)(a.rows < kMaxGridY ? a.rows : kMaxGridY));
    return dd_launch(row_op_kernel<Op>, grid, dim3(kThreads), 0, stream, a);
}

}  // namespace

cudaError_t gated_residual_add(float* h, int64_t h_sn, int64_t h_st, const float* x, int64_t x_sn, int64_t x_st,
                               const float* gate, int64_t gate_sn, int64_t N, int64_t T, int64_t D,
                               cudaStream_t stream) {
    if (N < 0 || T < 0) return cudaErrorInvalidValue;
    if (T == 0) return cudaSuccess;
    return launch<RowOp::kGatedResidual>({h, h_sn, h_st, x, x_sn, x_st, gate, gate_sn, nullptr, nullptr, N * T, T, D},
                                         stream);
}

cudaError_t gather_rows(const float* src, int64_t src_rs, const int32_t* index, float* dst, int64_t dst_rs, int64_t K,
                        int64_t D, cudaStream_t stream) {
    if (!index && K > 0) return cudaErrorInvalidValue;
    return launch<RowOp::kGather>({dst, dst_rs, 0, src, src_rs, 0, nullptr, 0, index, nullptr, K, 1, D}, stream);
}

cudaError_t scatter_add_rows(float* dst, int64_t dst_rs, const int32_t* index, const float* src, int64_t src_rs,
                             const float* gate, int64_t gate_rs, const int32_t* row_sample, int64_t K, int64_t D,
                             bool unique_index, cudaStream_t stream) {
    if ((!index || (gate && !row_sample)) && K > 0) return cudaErrorInvalidValue;
    const RowArgs a{dst, dst_rs, 0, src, src_rs, 0, gate, gate_rs, index, row_sample, K, 1, D};
    return unique_index ? launch<RowOp::kScatterAdd>(a, stream) : launch<RowOp::kScatterAddAtomic>(a, stream);
}

cudaError_t scatter_rows(float* dst, int64_t dst_rs, const int32_t* index, const float* src, int64_t src_rs,
                         int64_t K, int64_t D, cudaStream_t stream) {
    if (!index && K > 0) return cudaErrorInvalidValue;
    return launch<RowOp::kScatter>({dst, dst_rs, 0, src, src_rs, 0, nullptr, 0, index, nullptr, K, 1, D}, stream);
}

cudaError_t scale_rows(float* x, int64_t x_rs, const float* s, int64_t R, int64_t D, cudaStream_t stream) {
    return launch<RowOp::kScale>({x, x_rs, 0, s, 0, 0, nullptr, 0, nullptr, nullptr, R, 1, D}, stream);
}

}  // namespace dd::cuda_kernels
