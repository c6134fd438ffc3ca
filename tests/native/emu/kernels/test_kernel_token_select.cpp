// cuda-kernels/token_select.cu under emulation against the CPU's float32 rule (exact: it is a selection).
#include <cmath>
#include <cstring>
#include <limits>

#include "../emu_test_util.h"
#include "token_select.cuh"

using emu_test::DevBuf;

namespace {

// The CPU contract, written as dd_select_tokens computes it.
bool cpu_keep(float l) { return 1.0f / (1.0f + std::exp(-l)) > 0.5f; }

float from_bits(uint32_t b) {
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

void check_select(const std::vector<float>& logits, int64_t N, int64_t T, int64_t rs) {
    const int32_t sentinel = -5;
    DevBuf<float> dl(logits);
    DevBuf<int32_t> di(std::vector<int32_t>(N * T + 1, sentinel)), ds(std::vector<int32_t>(N * T + 1, sentinel)),
        dc(std::vector<int32_t>(N, sentinel));
    ASSERT_EQ(dd::cuda_kernels::select_tokens(dl.p, rs, di.p, ds.p, dc.p, N, T, 0), cudaSuccess);
    std::vector<int32_t> idx(N * T + 1, sentinel), smp(N * T + 1, sentinel), cnt(N);
    int64_t k = 0;
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t t = 0; t < T; ++t)
            if (cpu_keep(logits[n * rs + t])) idx[k] = (int32_t)(n * T + t), smp[k] = (int32_t)n, ++k, ++cnt[n];
    }
    EXPECT_EQ(dc.get(), cnt);
    EXPECT_EQ(di.get(), idx);  // includes "past the total stays untouched"
    EXPECT_EQ(ds.get(), smp);
}

}  // namespace

TEST(EmuSelectTokens, RandomOddSizes) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    for (auto [N, T] : {std::pair<int64_t, int64_t>{3, 257}, {5, 31}, {1, 1}, {2, 600}}) {
        const int64_t rs = T + 3;
        std::vector<float> l(N * rs, std::numeric_limits<float>::quiet_NaN());
        const float bias = rng.uniform(-1.0f, 1.0f);
        for (int64_t n = 0; n < N; ++n)
            for (int64_t t = 0; t < T; ++t) l[n * rs + t] = bias + rng.normal();
        check_select(l, N, T, rs);
    }
}

TEST(EmuSelectTokens, NoneAllAndZeroWidth) {
    check_select(std::vector<float>(4 * 70, -1.0f), 4, 70, 70);  // zero kept tokens
    check_select(std::vector<float>(3 * 33, 2.0f), 3, 33, 33);   // all kept
    std::vector<float> mixed(2 * 40, -3.0f);
    for (int t = 0; t < 40; t += 3) mixed[40 + t] = 1.0f;  // first sample empty, second partial
    check_select(mixed, 2, 40, 40);
    DevBuf<int32_t> dc(std::vector<int32_t>(3, 9));
    ASSERT_EQ(dd::cuda_kernels::select_tokens(nullptr, 0, nullptr, nullptr, dc.p, 3, 0, 0), cudaSuccess);
    EXPECT_EQ(dc.get(), std::vector<int32_t>(3, 0));  // T = 0: counts are zero
}

// The float32 threshold: every float in [-2^-20, 2^-20] near 0 and 0x1.8p-24, plus specials.
TEST(EmuSelectTokens, ThresholdAndSpecials) {
    std::vector<float> l = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(), 1e-8f, 5.96e-8f, 8.9e-8f, 9e-8f, 1e-7f, 88.0f,
                            -88.0f, 104.0f, -104.0f};
    const uint32_t thr = 0x33c00000u;  // 0x1.8p-24
    for (uint32_t b = thr - 300; b <= thr + 300; ++b) l.push_back(from_bits(b)), l.push_back(-from_bits(b));
    const int64_t T = 61, N = ((int64_t)l.size() + T - 1) / T;
    l.resize(N * T, 0.5f);
    check_select(l, N, T, T);
}

TEST(EmuSelectTokens, BadArguments) {
    EXPECT_EQ(dd::cuda_kernels::select_tokens(nullptr, 0, nullptr, nullptr, nullptr, 1, 1, 0), cudaErrorInvalidValue);
}
