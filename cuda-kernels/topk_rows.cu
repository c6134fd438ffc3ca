// Top-k per row: one block per row bitonic-sorts (score, index) keys in shared memory, then
// bitonic-sorts the k winners' indices ascending. A 64-bit key orders the CPU's way in one compare:
// high word = score bits mapped to an unsigned order, low word = ~t (equal scores: lower t is larger).
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include "topk_rows.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kThreads = 512;

__device__ __forceinline__ unsigned long long score_key(float s, uint32_t t) {
    if (s == 0.0f) s = 0.0f;  // -0.0 ties with +0.0, as with the CPU's float compares
    uint32_t u = __float_as_uint(s);
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // monotone float -> unsigned map
    return ((unsigned long long)u << 32) | (uint32_t)~t;
}

// Sorts keys[0, P) (P a power of two) ascending or descending; all threads of the block call it.
__device__ void bitonic_sort(unsigned long long* keys, int P, bool descending) {
    for (int size = 2; size <= P; size <<= 1)
        for (int stride = size >> 1; stride > 0; stride >>= 1) {
            for (int i = threadIdx.x; i < P; i += blockDim.x) {
                const int j = i ^ stride;
                if (j <= i) continue;
                const bool up = ((i & size) == 0) != descending;
                const unsigned long long a = keys[i], b = keys[j];
                if ((a > b) == up) {
                    keys[i] = b;
                    keys[j] = a;
                }
            }
            __syncthreads();
        }
}

__global__ void __launch_bounds__(kThreads)
    topk_kernel(const float* scores, int64_t rs, int32_t* index, int64_t N, int T, int k, int P, int Pk) {
    DD_DYNAMIC_SMEM(unsigned long long, keys);  // P keys
    for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
        const float* s = scores + n * rs;
        // padding key 0 sorts after every real key (a real key's low word ~t is never 0 for t < 2^31)
        for (int i = threadIdx.x; i < P; i += blockDim.x) keys[i] = i < T ? score_key(s[i], (uint32_t)i) : 0ull;
        __syncthreads();
        bitonic_sort(keys, P, true);
        // the best k are keys[0, k): keep their t, pad to Pk with a maximum, sort ascending by t
        for (int i = threadIdx.x; i < Pk; i += blockDim.x)
            keys[i] = i < k ? (unsigned long long)(uint32_t)~(uint32_t)keys[i] : ~0ull;
        __syncthreads();
        bitonic_sort(keys, Pk, false);
        for (int i = threadIdx.x; i < k; i += blockDim.x) index[n * k + i] = (int32_t)(n * T + (int64_t)keys[i]);
        __syncthreads();  // keys are reloaded for the next row
    }
}

int next_pow2(int64_t v) {
    int p = 1;
    while (p < v) p <<= 1;
    return p;
}

}  // namespace

cudaError_t topk_rows(const float* scores, int64_t scores_rs, int32_t* index, int64_t N, int64_t T, int64_t k,
                      cudaStream_t stream) {
    if (N < 0 || T < 1 || T > kTopkMaxT || k < 1 || k > T || N * T > 0x7fffffff || !scores || !index)
        return cudaErrorInvalidValue;
    if (N == 0) return cudaSuccess;
    const int P = next_pow2(T), Pk = next_pow2(k);
    const unsigned grid = (unsigned)(N < 65535 ? N : 65535);
    return dd_launch(topk_kernel, grid, kThreads, (size_t)P * sizeof(unsigned long long), stream, scores, scores_rs,
                     index, N, (int)T, (int)k, P, Pk);
}

}  // namespace dd::cuda_kernels
