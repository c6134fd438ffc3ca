// Token selection as two launches: (1) one block per sample counts its kept tokens; (2) one block per
// sample sums the counts of the samples before it (N is a batch size: O(N) per block is cheap) and
// writes its kept tokens in order with a block-wide ballot scan. No block waits on another block.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "token_select.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;

// The CPU keeps a token when 1 / (1 + expf(-l)) > 0.5 in float32, i.e. when fl(1 + fl(exp(-l))) < 2.
// That holds exactly for l > 0x1.8p-24 (below it exp(-l) rounds to 1 - 2^-24 or above and 1 + e to 2);
// -inf, NaN and every l <= 0x1.8p-24 are dropped, +inf kept. The test checks this predicate against the
// float32 formula on every float around the threshold and on random logits.
__device__ __forceinline__ bool keep_token(float logit) { return logit > 0x1.8p-24f; }

__global__ void __launch_bounds__(kThreads)
    count_kernel(const float* logits, int64_t rs, int32_t* counts, int64_t N, int64_t T) {
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        const float* l = logits + n * rs;
        int count = 0;
        for (int64_t t0 = 0; t0 < T; t0 += kThreads) {  // uniform trip count: every thread reaches the barrier
            const int64_t t = t0 + threadIdx.x;
            count += __syncthreads_count(t < T && keep_token(l[t]));
        }
        if (threadIdx.x == 0) counts[n] = count;
    }
}

// Sum of an int over the block; every thread gets the total.
__device__ int block_sum_int(int v, int* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    DD_UNROLL
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    int total = 0;
    for (int w = 0; w < kWarps; ++w) total += scratch[w];
    __syncthreads();  // scratch free again
    return total;
}

__global__ void __launch_bounds__(kThreads)
    compact_kernel(const float* logits, int64_t rs, const int32_t* counts, int32_t* index, int32_t* row_sample,
                   int64_t N, int64_t T) {
    __shared__ int warp_base[kWarps + 1];
    __shared__ int scratch[kWarps];
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    const unsigned lanes_below = (1u << lane) - 1u;
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        int before = 0;
        for (int64_t m = threadIdx.x; m < n; m += kThreads) before += counts[m];
        int64_t base = block_sum_int(before, scratch);
        const float* l = logits + n * rs;
        for (int64_t t0 = 0; t0 < T; t0 += kThreads) {
            const int64_t t = t0 + threadIdx.x;
            const bool keep = t < T && keep_token(l[t]);
            const unsigned ballot = __ballot_sync(0xffffffffu, keep);
            if (lane == 0) warp_base[warp] = __popc(ballot);
            __syncthreads();
            if (threadIdx.x == 0) {  // exclusive scan of 8 warp counts
                int run = 0;
                for (int w = 0; w < kWarps; ++w) {
                    const int c = warp_base[w];
                    warp_base[w] = run;
                    run += c;
                }
                warp_base[kWarps] = run;
            }
            __syncthreads();
            if (keep) {
                const int64_t k = base + warp_base[warp] + __popc(ballot & lanes_below);
                index[k] = (int32_t)(n * T + t);
                row_sample[k] = (int32_t)n;
            }
            base += warp_base[kWarps];
            __syncthreads();  // warp_base is rewritten by the next chunk
        }
    }
}

}  // namespace

cudaError_t select_tokens(const float* logits, int64_t logits_rs, int32_t* index, int32_t* row_sample,
                          int32_t* counts, int64_t N, int64_t T, cudaStream_t stream) {
    if (N < 0 || T < 0 || N * T > 0x7fffffff || !counts) return cudaErrorInvalidValue;
    if (N == 0) return cudaSuccess;
    if (T > 0 && (!logits || !index || !row_sample)) return cudaErrorInvalidValue;
    const unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    cudaError_t err = dd_launch(count_kernel, grid, kThreads, 0, stream, logits, logits_rs, counts, N, T);
    if (err != cudaSuccess || T == 0) return err;
    return dd_launch(compact_kernel, grid, kThreads, 0, stream, logits, logits_rs, (const int32_t*)counts, index,
                     row_sample, N, T);
}

}  // namespace dd::cuda_kernels
