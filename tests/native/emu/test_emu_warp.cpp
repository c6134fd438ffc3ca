// Warp collectives: shuffles (every mode and width) against the CUDA Programming Guide's wording,
// votes and reductions with partial masks, and the misuse checks (mask, exited lanes, mismatched
// calls, unreadable source lanes).
#include <string>

#include "emu_test_util.h"

using emu_test::DevBuf;

namespace {

enum Mode { kIdx, kUp, kDown, kXor };

template <class T>
__global__ void shuffle_kernel(const T* in, T* out, int mode, int b, int width) {
    const T v = in[threadIdx.x];
    T r = v;
    switch (mode) {
        case kIdx: r = __shfl_sync(0xffffffffu, v, b, width); break;
        case kUp: r = __shfl_up_sync(0xffffffffu, v, (unsigned)b, width); break;
        case kDown: r = __shfl_down_sync(0xffffffffu, v, (unsigned)b, width); break;
        default: r = __shfl_xor_sync(0xffffffffu, v, b, width); break;
    }
    out[threadIdx.x] = r;
}

// Reference written from the Programming Guide's description (not from the PTX formula the
// emulator uses): sub-warps of `width` lanes; idx wraps srcLane modulo width; up/down keep the own
// value when the source leaves the sub-warp; xor may read earlier sub-warps but not later ones.
int ref_source(int mode, int lane, int b, int width) {
    const int base = lane / width * width;
    switch (mode) {
        case kIdx: return base + ((b % width) + width) % width;
        case kUp: return lane - base >= b ? lane - b : lane;
        case kDown: return lane - base + b < width ? lane + b : lane;
        default: {
            const int j = lane ^ b;
            return j / width > lane / width ? lane : j;
        }
    }
}

template <class T>
void check_all_shuffles(T (*make)(int)) {
    std::vector<T> in(32);
    for (int l = 0; l < 32; ++l) in[l] = make(l);
    DevBuf<T> din(in), dout(32);
    for (int mode = kIdx; mode <= kXor; ++mode)
        for (int width = 1; width <= 32; width *= 2)
            for (int b = 0; b < 32; ++b) {
                if ((mode == kUp || mode == kDown) && b >= width && b > 3) continue;  // keep it short
                ASSERT_EQ(dd_launch(shuffle_kernel<T>, 1, 32, 0, 0, din.p, dout.p, mode, b, width), cudaSuccess);
                const auto v = dout.get();
                for (int l = 0; l < 32; ++l)
                    ASSERT_EQ(v[l], in[ref_source(mode, l, b, width)])
                        << "mode " << mode << " width " << width << " b " << b << " lane " << l;
            }
}

__global__ void partial_mask_shuffle(const int* in, int* out) {
    const int lane = threadIdx.x & 31;
    int v = in[threadIdx.x];
    if (lane < 16) {  // the low half reduces among itself
        for (int o = 8; o > 0; o >>= 1) v += __shfl_down_sync(0x0000ffffu, v, o, 16);
    } else {          // the high half takes a different path with its own mask
        v = __shfl_sync(0xffff0000u, v, 16);
    }
    out[threadIdx.x] = v;
}

__global__ void votes(const int* pred, unsigned* out) {
    const int t = threadIdx.x, lane = t & 31;
    const int p = pred[t];
    out[8 * t + 0] = __ballot_sync(0xffffffffu, p);
    out[8 * t + 1] = __any_sync(0xffffffffu, p);
    out[8 * t + 2] = __all_sync(0xffffffffu, p);
    if (lane % 2 == 0) {
        out[8 * t + 3] = __ballot_sync(0x55555555u, p);
        out[8 * t + 4] = __all_sync(0x55555555u, p);
    } else {
        out[8 * t + 3] = __ballot_sync(0xaaaaaaaau, p);
        out[8 * t + 4] = __all_sync(0xaaaaaaaau, p);
    }
    out[8 * t + 5] = __reduce_add_sync(0xffffffffu, (unsigned)(p * lane));
    out[8 * t + 6] = (unsigned)__reduce_max_sync(0xffffffffu, p ? lane : -1);
    __syncwarp();
    out[8 * t + 7] = __reduce_or_sync(0xffffffffu, 1u << (lane % 8));
}

__global__ void lane_not_in_mask(int* out) {
    int v = 0;
    if (threadIdx.x < 16) v = __shfl_sync(0x0000fffeu, (int)threadIdx.x, 1);  // lane 0 calls, is not in mask
    out[threadIdx.x] = v;
}

__global__ void mask_names_exited_lane(int* out) {
    if (threadIdx.x == 5) return;
    __syncwarp(0xffffffffu);
    out[threadIdx.x] = 1;
}

__global__ void mismatched_calls(int* out) {
    int v = (int)threadIdx.x;
    if (threadIdx.x % 2)
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    else
        v = __shfl_xor_sync(0xffffffffu, v, 1);
    out[threadIdx.x] = v;
}

__global__ void reads_lane_outside_mask(int* out) {
    int v = (int)threadIdx.x;
    if (threadIdx.x < 16) v = __shfl_xor_sync(0x0000ffffu, v, 16);  // lane ^ 16 is not in the mask
    out[threadIdx.x] = v;
}

__global__ void full_mask_in_partial_warp(int* out) {
    out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);  // block of 48: warp 1 has 16 lanes
}

__global__ void bad_width(int* out) { out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0, 12); }

template <class K>
std::string expect_failure(K kernel, int threads) {
    DevBuf<int> out(64);
    const cudaError_t e = dd_launch(kernel, 1, threads, 0, 0, out.p);
    EXPECT_EQ(e, cudaErrorLaunchFailure);
    return dd::simt::error_detail(e);
}

}  // namespace

TEST(EmuWarp, ShufflesAllModesAndWidthsInt) {
    check_all_shuffles<int>([](int l) { return l * 10 + 7; });
}
TEST(EmuWarp, ShufflesFloatDoubleAndBf16) {
    check_all_shuffles<float>([](int l) { return 0.5f * l - 3.0f; });
    check_all_shuffles<double>([](int l) { return 1e10 + l; });
    std::vector<__nv_bfloat16> in(32);
    for (int l = 0; l < 32; ++l) in[l] = emu_test::to_bf16((float)l);
    DevBuf<__nv_bfloat16> din(in), dout(32);
    ASSERT_EQ(dd_launch(shuffle_kernel<__nv_bfloat16>, 1, 32, 0, 0, din.p, dout.p, (int)kXor, 3, 32), cudaSuccess);
    const auto v = dout.get();
    for (int l = 0; l < 32; ++l) EXPECT_EQ(emu_test::from_bf16(v[l]), (float)(l ^ 3));
}

TEST(EmuWarp, PartialMasksInDivergentBranches) {
    std::vector<int> in(64);
    for (int i = 0; i < 64; ++i) in[i] = i * 3 + 1;
    DevBuf<int> din(in), dout(64);
    ASSERT_EQ(dd_launch(partial_mask_shuffle, 1, 64, 0, 0, din.p, dout.p), cudaSuccess);
    const auto v = dout.get();
    for (int w = 0; w < 2; ++w) {
        int sum = 0;
        for (int l = 0; l < 16; ++l) sum += in[32 * w + l];
        EXPECT_EQ(v[32 * w], sum);  // lane 0 holds the half-warp sum
        for (int l = 16; l < 32; ++l) EXPECT_EQ(v[32 * w + l], in[32 * w + 16]);
    }
}

TEST(EmuWarp, BallotAnyAllAndReductions) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    for (int pattern = 0; pattern < 4; ++pattern) {
        std::vector<int> pred(64);
        for (int i = 0; i < 64; ++i)
            pred[i] = pattern == 0 ? rng.integer(0, 1) : pattern == 1 ? 1 : pattern == 2 ? 0 : (i % 3 == 0);
        DevBuf<int> dp(pred);
        DevBuf<unsigned> out(8 * 64);
        const cudaError_t e = dd_launch(votes, 1, 64, 0, 0, dp.p, out.p);
        ASSERT_EQ(e, cudaSuccess) << dd::simt::error_detail(e);
        const auto v = out.get();
        for (int t = 0; t < 64; ++t) {
            const int w = t / 32, lane = t % 32;
            unsigned ballot = 0, sum = 0;
            int mx = -1;
            for (int l = 0; l < 32; ++l)
                if (pred[32 * w + l]) {
                    ballot |= 1u << l;
                    sum += l;
                    mx = l;
                }
            const unsigned half = lane % 2 == 0 ? 0x55555555u : 0xaaaaaaaau;
            EXPECT_EQ(v[8 * t + 0], ballot);
            EXPECT_EQ(v[8 * t + 1], ballot != 0 ? 1u : 0u);
            EXPECT_EQ(v[8 * t + 2], ballot == ~0u ? 1u : 0u);
            EXPECT_EQ(v[8 * t + 3], ballot & half);
            EXPECT_EQ(v[8 * t + 4], (ballot & half) == half ? 1u : 0u);
            EXPECT_EQ(v[8 * t + 5], sum);
            EXPECT_EQ((int)v[8 * t + 6], mx);
            EXPECT_EQ(v[8 * t + 7], 0xffu);
        }
    }
}

TEST(EmuWarp, CallingLaneMustBeInMask) {
    const std::string m = expect_failure(lane_not_in_mask, 32);
    EXPECT_NE(m.find("calling lane 0 is not in mask"), std::string::npos) << m;
}

TEST(EmuWarp, MaskNamingAnExitedLaneFails) {
    const std::string m = expect_failure(mask_names_exited_lane, 32);
    EXPECT_NE(m.find("exited"), std::string::npos) << m;
}

TEST(EmuWarp, LanesMustCallTheSameOpAtTheSameSite) {
    const std::string m = expect_failure(mismatched_calls, 32);
    EXPECT_NE(m.find("do not match"), std::string::npos) << m;
}

TEST(EmuWarp, ReadingALaneOutsideTheMaskFails) {
    const std::string m = expect_failure(reads_lane_outside_mask, 32);
    EXPECT_NE(m.find("not in the mask"), std::string::npos) << m;
}

TEST(EmuWarp, FullMaskInAPartialWarpFails) {
    const std::string m = expect_failure(full_mask_in_partial_warp, 48);
    EXPECT_NE(m.find("do not exist"), std::string::npos) << m;
}

TEST(EmuWarp, WidthMustBeAPowerOfTwo) {
    const std::string m = expect_failure(bad_width, 32);
    EXPECT_NE(m.find("power of two"), std::string::npos) << m;
}
