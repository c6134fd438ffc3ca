// cuda-kernels/topk_rows.cu under emulation against the CPU's rule (exact: it is a selection).
#include <algorithm>
#include <numeric>

#include "../emu_test_util.h"
#include "topk_rows.cuh"

using emu_test::DevBuf;

namespace {

// Reference: full stable order (higher score first, ties by lower t), first k, sorted by t.
std::vector<int32_t> ref_topk(const std::vector<float>& s, int64_t N, int64_t T, int64_t rs, int64_t k) {
    std::vector<int32_t> out;
    std::vector<int32_t> order(T);
    for (int64_t n = 0; n < N; ++n) {
        const float* r = &s[n * rs];
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [r](int32_t a, int32_t b) { return r[a] > r[b] || (r[a] == r[b] && a < b); });
        std::sort(order.begin(), order.begin() + k);
        for (int64_t j = 0; j < k; ++j) out.push_back((int32_t)(n * T + order[j]));
    }
    return out;
}

void check_topk(const std::vector<float>& s, int64_t N, int64_t T, int64_t rs, int64_t k) {
    SCOPED_TRACE("N " + std::to_string(N) + " T " + std::to_string(T) + " k " + std::to_string(k));
    DevBuf<float> ds(s);
    DevBuf<int32_t> di(N * k);
    ASSERT_EQ(dd::cuda_kernels::topk_rows(ds.p, rs, di.p, N, T, k, 0), cudaSuccess);
    EXPECT_EQ(di.get(), ref_topk(s, N, T, rs, k));
}

std::vector<float> random_scores(emu_test::Rng& rng, int64_t N, int64_t rs, int levels) {
    std::vector<float> s(N * rs);
    for (auto& v : s) v = levels ? (float)rng.integer(0, levels - 1) - 0.5f * levels : rng.normal();
    return s;
}

}  // namespace

TEST(EmuTopk, RandomOddSizes) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t N = 3, T = 257, rs = T + 2;
    const auto s = random_scores(rng, N, rs, 0);
    for (int64_t k : {1, 2, 100, 128, 129, 256, 257}) check_topk(s, N, T, rs, k);
}

TEST(EmuTopk, TiesPickLowerIndex) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t N = 4, T = 75;
    const auto s = random_scores(rng, N, T, 5);  // 5 distinct values: many ties
    for (int64_t k : {1, 7, 37, 74, 75}) check_topk(s, N, T, T, k);
    std::vector<float> z(2 * 9, 0.0f);  // all equal, with -0.0 == +0.0
    for (int i = 0; i < 18; i += 2) z[i] = -0.0f;
    check_topk(z, 2, 9, 9, 4);
    check_topk(std::vector<float>{3.0f, 3.0f, -1e30f, 1e30f, 1e30f}, 1, 5, 5, 3);
}

TEST(EmuTopk, SmallAndLargeRows) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    check_topk({2.5f}, 1, 1, 1, 1);  // T = 1
    const auto s = random_scores(rng, 2, 1024, 0);
    check_topk(s, 2, 1024, 1024, 511);
    const auto big = random_scores(rng, 1, 4096, 50);  // largest T, with ties
    check_topk(big, 1, 4096, 4096, 1000);
}

TEST(EmuTopk, BadArguments) {
    DevBuf<float> ds(8);
    DevBuf<int32_t> di(8);
    EXPECT_EQ(dd::cuda_kernels::topk_rows(ds.p, 8, di.p, 1, 8, 0, 0), cudaErrorInvalidValue);  // k = 0
    EXPECT_EQ(dd::cuda_kernels::topk_rows(ds.p, 8, di.p, 1, 8, 9, 0), cudaErrorInvalidValue);  // k > T
    EXPECT_EQ(dd::cuda_kernels::topk_rows(ds.p, 8, di.p, 1, 5000, 1, 0), cudaErrorInvalidValue);  // T too large
}
