// Tiled transpose: a block of 32x8 threads moves one 32x32 tile of x (rows r, columns s) through shared
// memory, reading rows of x and writing rows of y, each warp touching 32 consecutive floats. The tile row
// is padded to 33 floats so the column reads from shared memory hit 32 different banks.
// Grid: x over tiles of S, y over tiles of R, z over the batch; y and z loop when R / 32 or B exceeds
// the 65535 grid limit.
#include "simt/dd_cuda.h"  // first: the same source builds with nvcc and under the emulator

#include <algorithm>
#include <cstdint>

#include "vae_transpose.cuh"

namespace dd::cuda_kernels {
namespace {

constexpr int kTile = 32, kRows = 8;  // block = kTile x kRows threads, each moving kTile / kRows elements
constexpr int kPitch = kTile + 1;     // padding: no shared-memory bank conflicts on the transposed reads
constexpr int64_t kMaxGridYZ = 65535;

// No __restrict__ on residual / y: they may be the same buffer (each element read, then written, by one
// thread). Every tile entry read in phase 2 was written in phase 1 of the same tile (same in-range test).
__global__ void __launch_bounds__(kTile * kRows)
    transpose_kernel(const float* __restrict__ x, const float* residual, float* y, int64_t B, int64_t R, int64_t S) {
    DD_DYNAMIC_SMEM(float, tile);  // [kTile][kPitch]; NaN-filled under the emulator, catching unwritten reads
    const int tx = threadIdx.x, ty = threadIdx.y;
    const int64_t s0 = (int64_t)blockIdx.x * kTile;
    for (int64_t b = blockIdx.z; b < B; b += gridDim.z) {
        const float* xb = x + b * R * S;
        const int64_t yb = b * S * R;
        for (int64_t r0 = (int64_t)blockIdx.y * kTile; r0 < R; r0 += (int64_t)gridDim.y * kTile) {
            // Phase 1: tile[i][j] = x[b][r0 + i][s0 + j], consecutive threads along s.
            for (int i = ty; i < kTile; i += kRows) {
                const int64_t r = r0 + i, s = s0 + tx;
                if (r < R && s < S) tile[i * kPitch + tx] = xb[r * S + s];
            }
            __syncthreads();
            // Phase 2: y[b][s0 + i][r0 + j] = tile[j][i], consecutive threads along r.
            for (int i = ty; i < kTile; i += kRows) {
                const int64_t s = s0 + i, r = r0 + tx;
                if (s < S && r < R) {
                    const int64_t o = yb + s * R + r;
                    const float v = tile[tx * kPitch + i];
                    y[o] = residual ? v + residual[o] : v;
                }
            }
            __syncthreads();  // the next tile overwrites shared memory
        }
    }
}

}  // namespace

cudaError_t vae_transpose_last2(const float* x, const float* residual, float* y, int64_t B, int64_t R, int64_t S,
                                cudaStream_t stream) {
    if (B < 0 || R < 0 || S < 0) return cudaErrorInvalidValue;
    if (B == 0 || R == 0 || S == 0) return cudaSuccess;
    if (!x || !y) return cudaErrorInvalidValue;
    const int64_t tiles_s = (S + kTile - 1) / kTile, tiles_r = (R + kTile - 1) / kTile;
    if (tiles_s > 0x7fffffff) return cudaErrorInvalidValue;
    const dim3 grid((unsigned)tiles_s, (unsigned)std::min(tiles_r, kMaxGridYZ), (unsigned)std::min(B, kMaxGridYZ));
    const size_t smem = sizeof(float) * kTile * kPitch;
    return dd_launch(transpose_kernel, grid, dim3(kTile, kRows), smem, stream, x, residual, y, B, R, S);
}

}  // namespace dd::cuda_kernels
