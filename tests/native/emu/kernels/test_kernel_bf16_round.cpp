// cuda-kernels/bf16_round.cu under emulation: fp32 rows to bf16 against a bitwise round-to-nearest-even
// reference on fresh random values plus exact ties (both parities), ragged sizes, padding columns zeroed,
// nothing written past the output rows.
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"  // first: dd_cuda.h before any CUDA header
#include "bf16_round.cuh"

using emu_test::DevBuf;

namespace {

// Round to nearest even on the bits: add 0x7FFF plus the kept lowest bit, drop the low 16 bits (finite inputs).
uint16_t bf16_bits(float v) {
    uint32_t u;
    std::memcpy(&u, &v, 4);
    return (uint16_t)((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

void check(int rows, int cols, int64_t w_rs, int64_t out_rs) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " rows " + std::to_string(rows) + " cols " + std::to_string(cols));
    std::vector<float> w(std::max<int64_t>(1, rows * w_rs));
    for (size_t i = 0; i < w.size(); ++i) {
        const float v = rng.normal() * 100.0f;
        uint32_t u;
        std::memcpy(&u, &v, 4);
        // Every third value an exact tie (low half 0x8000): even and odd kept halves round apart.
        w[i] = i % 3 == 0 ? from_bits((u & 0xFFFF0000u) | 0x8000u) : v;
    }
    const int guard = 16;
    std::vector<uint16_t> init(rows * out_rs + guard, 0xABCD);
    DevBuf<float> dw(w);
    DevBuf<uint16_t> dout(init);
    ASSERT_EQ(dd::cuda_kernels::round_rows_bf16(dw.p, w_rs, dout.p, out_rs, rows, cols, 0), cudaSuccess);
    const std::vector<uint16_t> got = dout.get();
    int bad = 0, ties_even = 0, ties_odd = 0;
    for (int r = 0; r < rows; ++r)
        for (int64_t c = 0; c < out_rs; ++c) {
            const uint16_t want = c < cols ? bf16_bits(w[r * w_rs + c]) : 0;
            bad += got[r * out_rs + c] != want;
            if (c < cols) {
                uint32_t u;
                std::memcpy(&u, &w[r * w_rs + c], 4);
                if ((u & 0xFFFFu) == 0x8000u) ((u >> 16) & 1u ? ties_odd : ties_even)++;
            }
        }
    EXPECT_EQ(bad, 0) << "values differing from round-to-nearest-even";
    for (int i = 0; i < guard; ++i) EXPECT_EQ(got[rows * out_rs + i], 0xABCD) << "write past the end";
    if (rows * cols >= 300) {
        EXPECT_GT(ties_even * ties_odd, 0) << "the inputs should hold ties of both parities";
    }
}

}  // namespace

TEST(EmuBf16Round, RaggedRowsPaddedOutput) {
    check(37, 45, 51, 48);    // row strides with gaps in, padding columns out
    check(1, 1, 1, 8);
    check(300, 256, 256, 256);  // several grid-stride steps' worth of blocks
}
TEST(EmuBf16Round, RejectsBadArguments) {
    DevBuf<float> w(16);
    DevBuf<uint16_t> out(16);
    EXPECT_EQ(dd::cuda_kernels::round_rows_bf16(w.p, 4, out.p, 3, 2, 4, 0), cudaErrorInvalidValue);  // out_rs < cols
    EXPECT_EQ(dd::cuda_kernels::round_rows_bf16(w.p, 3, out.p, 4, 2, 4, 0), cudaErrorInvalidValue);  // w_rs < cols
    EXPECT_EQ(dd::cuda_kernels::round_rows_bf16(w.p, 4, out.p, 4, -1, 4, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::round_rows_bf16(nullptr, 4, out.p, 4, 2, 4, 0), cudaErrorInvalidValue);
    EXPECT_EQ(dd::cuda_kernels::round_rows_bf16(nullptr, 4, nullptr, 4, 0, 4, 0), cudaSuccess);  // nothing to do
}
