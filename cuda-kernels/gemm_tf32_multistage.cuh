// The fast path of gemm_tf32.cu (included by it, inside its anonymous namespace, after Params / Seg and the
// operand helpers): 128 x kBN CTA tiles (kBN = 256 or 128), 8 warps in 2 x 4 of 64 x kBN/4 (4 m16 x kBN/32 n8
// mma tiles), K in steps of 32 through a 3-stage cp.async ring (16-B copies, one commit group per k-tile, one __syncthreads per k-tile), fp32
// operands in shared memory rounded to tf32 / bf16 at the fragment load, float2 epilogue stores.
//
// Shared tiles are 32 floats per row (no padding) with the 16-B chunk c of row r stored at chunk
// c ^ swizzle(r): tf32 fragment reads (rows g = 0..7 of one chunk) need all 8 chunks distinct over g:
// c ^ (r & 7); bf16 fragment reads are 64-bit (half warps of rows g = 0..3, two adjacent chunks each) and need
// the 4 chunk pairs disjoint: c ^ ((r & 3) << 1). Both keep the cp.async stores (one row's 8 chunks per
// phase) conflict-free.
//
// Taken when every 16-B copy is aligned: x, W 16-B aligned, row strides and every input segment's starts and
// length multiples of 4 floats (linear() checks; otherwise the 64x64 kernel runs).

constexpr int kMsBM = 128, kMsBK = 32, kMsThreads = 256, kMsStages = 3;
constexpr int kMsATile = kMsBM * kMsBK;  // floats of an A tile
template <int kBN>
struct MsTile {
    static constexpr int kStage = (kMsBM + kBN) * kMsBK;  // floats of a stage: A tile, then B tile
    static constexpr size_t kSmem = (size_t)kMsStages * kStage * sizeof(float);  // 96 / 144 KiB
};

template <int kMode>
__device__ __forceinline__ int ms_swizzle(int r) {
    return kMode == kModeBf16 ? (r & 3) << 1 : r & 7;
}
// Float index of (row r, column k) in a swizzled tile.
template <int kMode>
__device__ __forceinline__ int ms_at(int r, int k) {
    return r * kMsBK + (((k >> 2) ^ ms_swizzle<kMode>(r)) << 2) + (k & 3);
}

// Issues the copies of k-tile kt (of the flattened input segments) into stage `stage`, then commits a group
// (an empty one past the last tile, so every thread's group count stays in step).
template <int kMode, int kBN>
__device__ __forceinline__ void ms_load_tile(const Params& p, float* stage_base, int kt, int m0, const Seg& oseg,
                                             int n0) {
    const LinearArgs& a = p.a;
    if (kt < p.in_tiles) {
        int is = 0;
        while (is + 1 < p.n_in && kt >= p.in_tile0[is + 1]) ++is;
        const Seg iseg = p.in[is];
        const int k0 = (kt - p.in_tile0[is]) * kMsBK;
        const float* xs = a.x + iseg.io_start;
        const float* ws = a.w + (int64_t)oseg.w_start * a.w_rs + iseg.w_start;
        float* As = stage_base;
        float* Bs = stage_base + kMsATile;
        DD_UNROLL
        for (int i = 0; i < kMsBM * kMsBK / 4 / kMsThreads; ++i) {
            const int v = (int)threadIdx.x + i * kMsThreads, r = v >> 3, c = v & 7, k = k0 + 4 * c, gm = m0 + r;
            const bool in = k < iseg.len && gm < a.M;
            dd::simt::cp_async_cg16(As + ms_at<kMode>(r, 4 * c), in ? xs + (int64_t)gm * a.x_rs + k : a.x,
                                    in ? 16 : 0);
        }
        DD_UNROLL
        for (int i = 0; i < kBN * kMsBK / 4 / kMsThreads; ++i) {
            const int v = (int)threadIdx.x + i * kMsThreads, r = v >> 3, c = v & 7, k = k0 + 4 * c, n = n0 + r;
            const bool in = k < iseg.len && n < oseg.len;
            dd::simt::cp_async_cg16(Bs + ms_at<kMode>(r, 4 * c), in ? ws + (int64_t)n * a.w_rs + k : a.w,
                                    in ? 16 : 0);
        }
    }
    dd::simt::cp_async_commit();
}

// y columns n, n + 1 (n + 1 may be past the segment) of row m from accumulators v0, v1: bias, epilogue, and
// one 8-byte access when both columns exist and the address allows it (bf16 y16: one 4-byte access).
__device__ __forceinline__ void ms_store_pair(const LinearArgs& a, const Seg& oseg, int m, int n, float v0, float v1) {
    if (m >= a.M || n >= oseg.len) return;
    const bool two = n + 1 < oseg.len;
    const int col = oseg.io_start + n, wrow = oseg.w_start + n;
    float v[2] = {v0 + (a.bias ? ld_global(&a.bias[wrow]) : 0.0f), v1 + (a.bias && two ? ld_global(&a.bias[wrow + 1]) : 0.0f)};
    if (a.epilogue == GemmEpilogue::kGatedResidual && a.gate) {
        const int s = a.row_sample ? a.row_sample[m] : m / a.rows_per_sample;
        const float* g = a.gate + (int64_t)s * a.gate_rs + col;
        v[0] *= ld_global(&g[0]);
        if (two) v[1] *= ld_global(&g[1]);
    }
    if (a.epilogue == GemmEpilogue::kGeluTanh) {
        v[0] = gelu_tanh_f(v[0]);
        v[1] = gelu_tanh_f(v[1]);
    }
    if (a.y16) {  // bf16 y (kStore / kGeluTanh): rounded once, one 4-byte store when the address allows it
        uint16_t* y16 = a.y16 + (int64_t)m * a.y_rs + col;
        if (two && (reinterpret_cast<uintptr_t>(y16) & 3) == 0) {
            st_global(reinterpret_cast<uint32_t*>(y16), bf16x2_round(v[0], v[1]));
            return;
        }
        for (int e = 0; e < (two ? 2 : 1); ++e) st_global(&y16[e], bf16_round_bits(v[e]));
        return;
    }
    float* y = a.y + (int64_t)m * a.y_rs + col;
    const bool residual = a.epilogue == GemmEpilogue::kGatedResidual;
    if (two && (reinterpret_cast<uintptr_t>(y) & 7) == 0) {
        float2 o = make_float2(v[0], v[1]);
        if (residual) {
            const float2 old = ld_global(reinterpret_cast<const float2*>(y));
            o.x += old.x;
            o.y += old.y;
        }
        st_global(reinterpret_cast<float2*>(y), o);
        return;
    }
    for (int e = 0; e < (two ? 2 : 1); ++e) st_global(&y[e], residual ? ld_global(&y[e]) + v[e] : v[e]);
}

// kBN = 128: 2 blocks per SM (<= 128 registers; 2 x 96 KiB of shared memory fit sm_90, sm_80 holds one).
// kBN = 256: one block per SM (128 accumulators per thread, 144 KiB of shared memory).
template <int kMode, int kBN>
__global__ void __launch_bounds__(kMsThreads, kBN == 128 ? 2 : 1) linear_ms_kernel(const Params p) {
    constexpr int kNi = kBN / 32;  // n8 tiles per warp
    DD_DYNAMIC_SMEM(float, smem);  // [kMsStages][A tile, B tile]
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3, g = lane >> 2, t = lane & 3;
    const LinearArgs& a = p.a;

    int os = 0;  // output segment of this block column (uniform scan)
    while (os + 1 < p.n_out && (int)blockIdx.x >= p.out_tile0[os + 1]) ++os;
    const Seg oseg = p.out[os];
    const int n0 = ((int)blockIdx.x - p.out_tile0[os]) * kBN;
    const int m0 = blockIdx.y * kMsBM;

    float acc[4][kNi][4];
    DD_UNROLL
    for (int mi = 0; mi < 4; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < kNi; ++ni)
            DD_UNROLL
            for (int i = 0; i < 4; ++i) acc[mi][ni][i] = 0.0f;

    DD_UNROLL
    for (int s = 0; s < kMsStages - 1; ++s) ms_load_tile<kMode, kBN>(p, smem + s * MsTile<kBN>::kStage, s, m0, oseg, n0);

    for (int kt = 0; kt < p.in_tiles; ++kt) {
        dd::simt::cp_async_wait<kMsStages - 2>();  // this thread's copies of tile kt have landed
        __syncthreads();  // everyone's copies of tile kt are visible; stage (kt - 1) % S is no longer read
        ms_load_tile<kMode, kBN>(p, smem + ((kt + kMsStages - 1) % kMsStages) * MsTile<kBN>::kStage,
                                 kt + kMsStages - 1, m0, oseg, n0);
        const float* As = smem + (kt % kMsStages) * MsTile<kBN>::kStage;
        const float* Bs = As + kMsATile;
        if (kMode == kModeBf16) {
            DD_UNROLL
            for (int ks = 0; ks < kMsBK; ks += 16) {
                // A (16x16): reg i row g + 8 (i & 1), columns 2t, 2t+1 (+8 for i >= 2); B (16x8): reg i k 2t, 2t+1
                // (+8 for i = 1) of W row g.
                uint32_t af[4][4], bf[kNi][2];
                DD_UNROLL
                for (int mi = 0; mi < 4; ++mi)
                    DD_UNROLL
                    for (int i = 0; i < 4; ++i) {
                        const int r = wm * 64 + mi * 16 + g + 8 * (i & 1);
                        const float2 v = ld_shared(reinterpret_cast<const float2*>(
                            As + ms_at<kMode>(r, ks + 2 * t + 8 * (i >> 1))));
                        af[mi][i] = pack_bf16x2(to_operand<kMode>(v.x), to_operand<kMode>(v.y));
                    }
                DD_UNROLL
                for (int ni = 0; ni < kNi; ++ni)
                    DD_UNROLL
                    for (int i = 0; i < 2; ++i) {
                        const int r = wn * (kBN / 4) + ni * 8 + g;
                        const float2 v =
                            ld_shared(reinterpret_cast<const float2*>(Bs + ms_at<kMode>(r, ks + 2 * t + 8 * i)));
                        bf[ni][i] = pack_bf16x2(to_operand<kMode>(v.x), to_operand<kMode>(v.y));
                    }
                DD_UNROLL
                for (int mi = 0; mi < 4; ++mi)
                    DD_UNROLL
                    for (int ni = 0; ni < kNi; ++ni)
                        dd::simt::mma_m16n8k16_bf16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
            }
        } else {
            DD_UNROLL
            for (int ks = 0; ks < kMsBK; ks += 8) {
                // A (16x8): a0 (g, t), a1 (g+8, t), a2 (g, t+4), a3 (g+8, t+4); B (8x8): b0 (k t, n g), b1 (k t+4).
                uint32_t af[4][4], bf[kNi][2];
                DD_UNROLL
                for (int mi = 0; mi < 4; ++mi)
                    DD_UNROLL
                    for (int i = 0; i < 4; ++i) {
                        const int r = wm * 64 + mi * 16 + g + 8 * (i & 1);
                        af[mi][i] = dd::simt::f32_to_tf32(ld_shared(As + ms_at<kMode>(r, ks + t + 4 * (i >> 1))));
                    }
                DD_UNROLL
                for (int ni = 0; ni < kNi; ++ni)
                    DD_UNROLL
                    for (int i = 0; i < 2; ++i)
                        bf[ni][i] = dd::simt::f32_to_tf32(ld_shared(Bs + ms_at<kMode>(wn * (kBN / 4) + ni * 8 + g, ks + t + 4 * i)));
                DD_UNROLL
                for (int mi = 0; mi < 4; ++mi)
                    DD_UNROLL
                    for (int ni = 0; ni < kNi; ++ni)
                        dd::simt::mma_m16n8k8_tf32(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
            }
        }
    }
    dd::simt::cp_async_wait<0>();  // only empty groups remain; nothing may be in flight at exit

    // C fragment: c0, c1 at row g, columns 2t, 2t+1; c2, c3 at row g+8.
    DD_UNROLL
    for (int mi = 0; mi < 4; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < kNi; ++ni)
            DD_UNROLL
            for (int h = 0; h < 2; ++h)
                ms_store_pair(a, oseg, m0 + wm * 64 + mi * 16 + g + 8 * h, n0 + wn * (kBN / 4) + ni * 8 + 2 * t,
                              acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]);
}
