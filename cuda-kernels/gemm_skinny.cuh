// The few-row path of gemm_tf32.cu (included by it after gemm_tf32_multistage.cuh, inside its anonymous
// namespace): M <= 32 rows, the adaLN GEMVs (M = 2 x batch with CFG), whose cost is streaming W once from DRAM.
// One CTA per 64 output columns: 8 warps, 2 column halves x 4 k-slices: within each 32-wide k-tile warp (h, s)
// takes columns 32 h .. 32 h + 31 and k 8 s .. 8 s + 7 for all 32 rows (2 m16 x 4 n8 mma.m16n8k8.tf32 tiles), so
// every W value is read from shared memory by one warp only; the four k-slices are summed through shared memory
// at the end. x and W tiles by 16-B cp.async through an 8-stage ring (7 tiles, ~84 KiB, in flight per CTA: a
// DRAM stream needs many bytes in flight), XOR-swizzled as the multistage kernel's (ms_at: conflict-free
// tf32 fragment reads), one barrier per k-tile.
// bf16 precision: operands rounded to bf16 at the fragment load and multiplied on the TF32 mma, which holds
// bf16 values exactly: the same products and fp32 sums as the bf16 mma (at the TF32 rate, irrelevant here).
// Taken for tf32 / bf16 when the multistage kernel's 16-B copies are aligned and M <= 32.

constexpr int kSkBM = 32, kSkBN = 64, kSkStages = 8, kSkThreads = 256;
constexpr int kSkATile = kSkBM * kMsBK, kSkStage = (kSkBM + kSkBN) * kMsBK;  // floats
constexpr size_t kSkSmem = (size_t)kSkStages * kSkStage * sizeof(float);     // 96 KiB
constexpr int kSkLdRed = kSkBN + 8;  // partial-sum rows: float2 C-fragment stores conflict-free (72 = 8 mod 32)
static_assert((size_t)4 * kSkBM * kSkLdRed * sizeof(float) <= kSkSmem, "k-slice partial sums fit the ring");
template <int kMode>
struct SkKernelTag {};

// Copies of k-tile kt into a stage, then the commit (an empty group past the last tile).
__device__ __forceinline__ void sk_load_tile(const Params& p, float* stage_base, int kt, const Seg& oseg, int n0) {
    const LinearArgs& a = p.a;
    if (kt < p.in_tiles) {
        int is = 0;
        while (is + 1 < p.n_in && kt >= p.in_tile0[is + 1]) ++is;
        const Seg iseg = p.in[is];
        const int k0 = (kt - p.in_tile0[is]) * kMsBK;
        const float* xs = a.x + iseg.io_start;
        const float* ws = a.w + (int64_t)oseg.w_start * a.w_rs + iseg.w_start;
        for (int v = (int)threadIdx.x; v < (kSkBM + kSkBN) * kMsBK / 4; v += kSkThreads) {
            const int r = v >> 3, c = v & 7, k = k0 + 4 * c;
            if (r < kSkBM) {
                const bool in = k < iseg.len && r < a.M;
                dd::simt::cp_async_cg16(stage_base + ms_at<kModeTf32>(r, 4 * c), in ? xs + (int64_t)r * a.x_rs + k : a.x,
                                        in ? 16 : 0);
            } else {
                const int n = n0 + r - kSkBM;
                const bool in = k < iseg.len && n < oseg.len;
                dd::simt::cp_async_cg16(stage_base + kSkATile + ms_at<kModeTf32>(r - kSkBM, 4 * c),
                                        in ? ws + (int64_t)n * a.w_rs + k : a.w, in ? 16 : 0);
            }
        }
    }
    dd::simt::cp_async_commit();
}

template <int kMode>
__device__ __forceinline__ uint32_t sk_operand(const float* p) {
    return __float_as_uint(kMode == kModeBf16 ? to_operand<kModeBf16>(ld_shared(p)) : to_operand<kModeTf32>(ld_shared(p)));
}

// One CTA per SM on both archs (96 KiB of ring); at most 255 registers, 64 accumulators per thread.
template <int kMode>
__global__ void __launch_bounds__(kSkThreads, 1) linear_skinny_kernel(const Params p) {
    DD_DYNAMIC_SMEM(float, smem);
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, g = lane >> 2, t = lane & 3;
    const int wn = warp & 1, ws = warp >> 1;  // column half, k-slice
    int os = 0;
    while (os + 1 < p.n_out && (int)blockIdx.x >= p.out_tile0[os + 1]) ++os;
    const Seg oseg = p.out[os];
    const int n0 = ((int)blockIdx.x - p.out_tile0[os]) * kSkBN;

    float acc[2][4][4];
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

    DD_UNROLL
    for (int s = 0; s < kSkStages - 1; ++s) sk_load_tile(p, smem + s * kSkStage, s, oseg, n0);
    for (int kt = 0; kt < p.in_tiles; ++kt) {
        dd::simt::cp_async_wait<kSkStages - 2>();  // this thread's copies of tile kt have landed
        __syncthreads();  // tile kt visible to all; stage (kt - 1) % S no longer read
        sk_load_tile(p, smem + ((kt + kSkStages - 1) % kSkStages) * kSkStage, kt + kSkStages - 1, oseg, n0);
        const float* As = smem + (kt % kSkStages) * kSkStage;
        const float* Bs = As + kSkATile;
        const int k = 8 * ws;
        // A (16x8): a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); B (8x8): b0 (k t, n g), b1 (k t+4, n g).
        uint32_t af[2][4], bf[4][2];
        DD_UNROLL
        for (int mi = 0; mi < 2; ++mi)
            DD_UNROLL
            for (int i = 0; i < 4; ++i)
                af[mi][i] = sk_operand<kMode>(As + ms_at<kModeTf32>(mi * 16 + g + 8 * (i & 1), k + t + 4 * (i >> 1)));
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int i = 0; i < 2; ++i) bf[ni][i] = sk_operand<kMode>(Bs + ms_at<kModeTf32>(wn * 32 + ni * 8 + g, k + t + 4 * i));
        DD_UNROLL
        for (int mi = 0; mi < 2; ++mi)
            DD_UNROLL
            for (int ni = 0; ni < 4; ++ni) dd::simt::mma_m16n8k8_tf32(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
    }
    dd::simt::cp_async_wait<0>();  // only empty groups remain
    __syncthreads();               // the ring is free: it holds the k-slices' partial sums now

    float* red = smem;  // [4 k-slices][kSkBM][kSkLdRed]
    DD_UNROLL
    for (int mi = 0; mi < 2; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < 4; ++ni)
            DD_UNROLL
            for (int h = 0; h < 2; ++h)
                st_shared(reinterpret_cast<float2*>(red + (ws * kSkBM + mi * 16 + g + 8 * h) * kSkLdRed + wn * 32 + ni * 8 + 2 * t),
                          make_float2(acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]));
    __syncthreads();
    for (int v = tid; v < kSkBM * kSkBN / 2; v += kSkThreads) {
        const int m = v / (kSkBN / 2), n = 2 * (v % (kSkBN / 2));
        float2 s = make_float2(0.0f, 0.0f);
        DD_UNROLL
        for (int q = 0; q < 4; ++q) {  // fixed order: the sums do not depend on timing
            const float2 part = ld_shared(reinterpret_cast<const float2*>(red + (q * kSkBM + m) * kSkLdRed + n));
            s.x += part.x;
            s.y += part.y;
        }
        ms_store_pair(p.a, oseg, m, n0 + n, s.x, s.y);
    }
}

bool skinny_takes(const Params& p) { return p.a.M <= kSkBM && multistage_aligned(p); }

cudaError_t launch_skinny(Params& p, cudaStream_t stream) {
    const LinearArgs& a = p.a;
    const int64_t tiles = output_tiles(p, kSkBN);
    if (tiles == 0 || a.M == 0) return cudaSuccess;
    p.in_tiles = 0;
    for (int s = 0; s < p.n_in; ++s) {
        p.in_tile0[s] = p.in_tiles;
        p.in_tiles += (p.in[s].len + kMsBK - 1) / kMsBK;
    }
    const dim3 grid((unsigned)tiles);
    if (a.precision == GemmPrecision::kBf16) {
        if (cudaError_t e = opt_in_dynamic_smem<SkKernelTag<kModeBf16>>(linear_skinny_kernel<kModeBf16>, kSkSmem)) return e;
        return dd_launch(linear_skinny_kernel<kModeBf16>, grid, kSkThreads, kSkSmem, stream, p);
    }
    if (cudaError_t e = opt_in_dynamic_smem<SkKernelTag<kModeTf32>>(linear_skinny_kernel<kModeTf32>, kSkSmem)) return e;
    return dd_launch(linear_skinny_kernel<kModeTf32>, grid, kSkThreads, kSkSmem, stream, p);
}
