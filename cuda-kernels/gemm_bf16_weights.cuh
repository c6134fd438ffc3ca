// The bf16-weight path of gemm_tf32.cu (included by it after gemm_tf32_multistage.cuh, inside its anonymous
// namespace): precision bf16 with W given as bf16 (LinearArgs::w16, the backend's copy converted once at load).
// 128 x kBN CTA tiles (kBN = 256 or 128), 8 warps in 2 x 4 of 64 x kBN/4, K in steps of 32 through a
// 4-stage ring of bf16 tiles, fragments by ldmatrix.x4 for mma.m16n8k16.bf16, one barrier per k-tile.
//
// W (bf16 in memory) arrives by 16-B cp.async (8 values). bf16 x (LinearArgs::x16) arrives the same way, in W's
// commit group. fp32 x:
// each thread loads its four float4 of k-tile kt + 3 into registers before the mma of tile kt and stores
// them rounded to bf16 after it (register-staged, so the rounding costs no extra pass over x and the
// load latency hides behind the mma). Shared memory then holds bf16 for both operands: half the wavefronts
// of the fp32-operand kernel per mma, and W moves half the bytes.
//
// Tiles are 32 bf16 (64 B, four 16-B chunks) per row, unpadded; chunk c of row r sits at c ^ ((r >> 1) & 3),
// so the 8 rows of one ldmatrix 8x8 matrix (same logical chunk, rows r0..r0+7), the 8 chunks of one
// quarter-warp cp.async phase (2 rows x 4 chunks) and the 16 half chunks of one half-warp x store (2 rows)
// each cover all 32 banks once: no conflicts.
//
// Taken when x's copies are 16-B aligned as for the multistage kernel and w16 is 16-B aligned with a row
// stride and every input segment's W start in multiples of 8 (segment lengths in multiples of 4: the last
// chunk of a segment may be half full, zero-filled by the copy's source size).

constexpr int kWStages = 4, kWBK = 32;
constexpr int kWATile = kMsBM * kWBK;  // bf16 values of an A tile
template <int kBN>
struct WTile {
    static constexpr int kStage = (kMsBM + kBN) * kWBK;                               // bf16 values per stage
    static constexpr size_t kSmem = (size_t)kWStages * kStage * sizeof(uint16_t);  // 96 / 64 KiB
};
template <int kBN>
struct WKernelTag {};  // the dynamic shared memory opt-in flag of each instantiation

// bf16 index of (row r, column k) in a swizzled tile.
__device__ __forceinline__ int w_at(int r, int k) { return r * kWBK + (((k >> 3) ^ ((r >> 1) & 3)) << 3) + (k & 7); }

// The input segment of k-tile kt (uniform scan) and the tile's first column within it.
__device__ __forceinline__ Seg w_segment(const Params& p, int kt, int& k0) {
    int is = 0;
    while (is + 1 < p.n_in && kt >= p.in_tile0[is + 1]) ++is;
    k0 = (kt - p.in_tile0[is]) * kWBK;
    return p.in[is];
}

// This thread's four 4-column pieces of x for k-tile kt (zeros outside the segment or past M): piece j is
// row v >> 3, columns 4 (v & 7) of the tile, v = tid + 256 j, so a warp reads 4 whole 128-B rows per request.
__device__ __forceinline__ void w_load_a(const Params& p, int kt, int m0, float4 (&v)[4]) {
    const LinearArgs& a = p.a;
    int k0;
    const Seg iseg = w_segment(p, kt, k0);
    DD_UNROLL
    for (int j = 0; j < 4; ++j) {
        const int u = (int)threadIdx.x + j * kMsThreads, gm = m0 + (u >> 3), k = k0 + 4 * (u & 7);
        v[j] = gm < a.M && k < iseg.len
                   ? ld_global(reinterpret_cast<const float4*>(a.x + (int64_t)gm * a.x_rs + iseg.io_start + k))
                   : make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    }
}

__device__ __forceinline__ uint32_t w_pack(float lo, float hi) {
    return pack_bf16x2(to_operand<kModeBf16>(lo), to_operand<kModeBf16>(hi));
}

// The pieces of w_load_a rounded to bf16 into A tile As (8-byte stores: a half warp covers 2 rows' 16 halves of
// 16-B chunks, all distinct 8-B bank pairs under the swizzle).
__device__ __forceinline__ void w_store_a(uint16_t* As, const float4 (&v)[4]) {
    DD_UNROLL
    for (int j = 0; j < 4; ++j) {
        const int u = (int)threadIdx.x + j * kMsThreads;
        st_shared(reinterpret_cast<uint2*>(As + w_at(u >> 3, 4 * (u & 7))),
                  make_uint2(w_pack(v[j].x, v[j].y), w_pack(v[j].z, v[j].w)));
    }
}

// bf16 x (LinearArgs::x16): cp.async of x's k-tile kt into A tile As, 16-B chunks of 8 values as W's (chunk u & 3
// of row u >> 2; a quarter warp covers 2 rows x 4 chunks: conflict-free under the swizzle), zero-filled outside the
// segment and past M; committed with W's copies of the same tile by w_load_b.
__device__ __forceinline__ void w_copy_a16(const Params& p, uint16_t* As, int kt, int m0) {
    const LinearArgs& a = p.a;
    if (kt >= p.in_tiles) return;
    int k0;
    const Seg iseg = w_segment(p, kt, k0);
    DD_UNROLL
    for (int i = 0; i < kMsBM * 4 / kMsThreads; ++i) {
        const int u = (int)threadIdx.x + i * kMsThreads, r = u >> 2, k = k0 + 8 * (u & 3), gm = m0 + r;
        const int left = gm < a.M ? iseg.len - k : 0;
        const int bytes = left <= 0 ? 0 : left >= 8 ? 16 : 2 * left;
        dd::simt::cp_async_cg16(As + w_at(r, k - k0), bytes ? a.x16 + (int64_t)gm * a.x_rs + iseg.io_start + k : a.x16,
                                bytes);
    }
}

// cp.async of W's k-tile kt into B tile Bs, then the commit (an empty group past the last tile).
template <int kBN>
__device__ __forceinline__ void w_load_b(const Params& p, uint16_t* Bs, int kt, const Seg& oseg, int n0) {
    const LinearArgs& a = p.a;
    if (kt < p.in_tiles) {
        int k0;
        const Seg iseg = w_segment(p, kt, k0);
        const uint16_t* ws = a.w16 + (int64_t)oseg.w_start * a.w16_rs + iseg.w_start;
        DD_UNROLL
        for (int i = 0; i < kBN * 4 / kMsThreads; ++i) {
            const int u = (int)threadIdx.x + i * kMsThreads, r = u >> 2, k = k0 + 8 * (u & 3), n = n0 + r;
            const int left = n < oseg.len ? iseg.len - k : 0;  // values of this chunk inside the segment
            const int bytes = left <= 0 ? 0 : left >= 8 ? 16 : 2 * left;
            dd::simt::cp_async_cg16(Bs + w_at(r, k - k0), bytes ? ws + (int64_t)n * a.w16_rs + k : a.w16, bytes);
        }
    }
    dd::simt::cp_async_commit();
}

// kBN = 256: one block per SM (128 accumulators per thread); kBN = 128: two.
template <int kBN>
__global__ void __launch_bounds__(kMsThreads, kBN == 128 ? 2 : 1) linear_w16_kernel(const Params p) {
    constexpr int kNi = kBN / 32;  // n8 tiles per warp
    DD_DYNAMIC_SMEM(uint16_t, smem);  // [kWStages][A tile, B tile], bf16
    const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
    const int wm = warp >> 2, wn = warp & 3;
    const LinearArgs& a = p.a;

    int os = 0;
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

    float4 stage_a[4];
    const bool x16 = a.x16 != nullptr;  // bf16 x: A by cp.async with W (no register staging, no rounding)
    DD_UNROLL
    for (int s = 0; s < kWStages - 1; ++s) {
        uint16_t* base = smem + s * WTile<kBN>::kStage;
        if (x16) w_copy_a16(p, base, s, m0);
        w_load_b<kBN>(p, base + kWATile, s, oseg, n0);
        if (!x16 && s < p.in_tiles) {
            w_load_a(p, s, m0, stage_a);
            w_store_a(base, stage_a);
        }
    }

    // ldmatrix row addresses: A x4 = rows 0-15 at k 0 (lanes 0-15) and k 8 (lanes 16-31), i.e. a0..a3 of the
    // m16n8k16 A fragment; B x4 = n 0-7 at k 0 / k 8 (lanes 0-15), n 8-15 at k 0 / k 8 (lanes 16-31), i.e. b0, b1
    // of two n8 tiles (W rows are n, contiguous in k: the non-transposed 8x8 matrix is the B fragment).
    const int a_row = wm * 64 + (lane & 15), a_k = (lane >> 4) << 3;
    const int b_row = wn * (kBN / 4) + ((lane >> 4) << 3) + (lane & 7), b_k = ((lane >> 3) & 1) << 3;
    for (int kt = 0; kt < p.in_tiles; ++kt) {
        dd::simt::cp_async_wait<kWStages - 2>();  // this thread's W copies of tile kt have landed
        __syncthreads();  // tile kt complete (copies and stored x); stage (kt - 1) % S is no longer read
        const int next = kt + kWStages - 1;
        uint16_t* nbase = smem + (next % kWStages) * WTile<kBN>::kStage;
        if (x16) w_copy_a16(p, nbase, next, m0);
        w_load_b<kBN>(p, nbase + kWATile, next, oseg, n0);
        const bool stage_next = !x16 && next < p.in_tiles;
        if (stage_next) w_load_a(p, next, m0, stage_a);  // in flight during the mma below
        const uint16_t* As = smem + (kt % kWStages) * WTile<kBN>::kStage;
        const uint16_t* Bs = As + kWATile;
        DD_UNROLL
        for (int ks = 0; ks < kWBK; ks += 16) {
            uint32_t af[4][4], bf[kNi][2];
            DD_UNROLL
            for (int mi = 0; mi < 4; ++mi) dd::simt::ldmatrix_x4(af[mi], As + w_at(a_row + 16 * mi, ks + a_k));
            DD_UNROLL
            for (int nj = 0; nj < kNi / 2; ++nj) {
                uint32_t r[4];
                dd::simt::ldmatrix_x4(r, Bs + w_at(b_row + 16 * nj, ks + b_k));
                bf[2 * nj][0] = r[0];
                bf[2 * nj][1] = r[1];
                bf[2 * nj + 1][0] = r[2];
                bf[2 * nj + 1][1] = r[3];
            }
            DD_UNROLL
            for (int mi = 0; mi < 4; ++mi)
                DD_UNROLL
                for (int ni = 0; ni < kNi; ++ni) dd::simt::mma_m16n8k16_bf16(acc[mi][ni], af[mi], bf[ni], acc[mi][ni]);
        }
        if (stage_next) w_store_a(nbase, stage_a);  // stage next % S was last read at kt - 1: free since the barrier
    }
    dd::simt::cp_async_wait<0>();  // only empty groups remain; nothing may be in flight at exit

    const int g = lane >> 2, t = lane & 3;
    DD_UNROLL
    for (int mi = 0; mi < 4; ++mi)
        DD_UNROLL
        for (int ni = 0; ni < kNi; ++ni)
            DD_UNROLL
            for (int h = 0; h < 2; ++h)
                ms_store_pair(a, oseg, m0 + wm * 64 + mi * 16 + g + 8 * h, n0 + wn * (kBN / 4) + ni * 8 + 2 * t,
                              acc[mi][ni][2 * h], acc[mi][ni][2 * h + 1]);
}
