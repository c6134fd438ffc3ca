// dd_linear_row_invariant: against the double reference at sizes off the kernel's tiles and vector width; each row bit
// for bit what it is alone or among any other rows, each column what its weight row gives alone, at 1 and 2 threads;
// fp32 at every GEMM precision; typed refusals (bf16 x, shapes, CUDA devices).
#include <cstring>

#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

// A dot product of K fp32 terms plus the bias is within (K + 1) 2^-24 of the exact sum relative to the sum of |terms|
// (any order, FMA or not): 1e-5 bounds that for K < 167, 5e-5 for K = 768.
Tolerance dot_bound(int64_t k) { return {0, (double)(k + 2) * std::ldexp(1.0, -24), 0}; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

class LinearRowInvariantTest : public OpTest {
protected:
    // On a backend without the op: the typed refusal naming it (the forward runs dd_linear there).
    bool refused(dd_status s) {
        if (backend().device_type == DD_DEVICE_CPU) return false;
        EXPECT_TRUE(FailsWith(s, DD_ERR_UNSUPPORTED, {"dd_linear_row_invariant", "not implemented"}));
        return true;
    }
    std::vector<float> run(const std::vector<float>& xs, const std::vector<float>& ws, const std::vector<float>& bs,
                           int64_t m, int64_t n, int64_t k, dd_status* status = nullptr) {
        Tensor x = upload_f32(backend(), xs, {m, k}), w = upload_f32(backend(), ws, {n, k});
        Tensor b = bs.empty() ? Tensor() : upload_f32(backend(), bs, {n});
        Tensor y = new_tensor(backend(), DD_F32, {m, n});
        const dd_status s = dd_linear_row_invariant(x.get(), w.get(), b.get(), y.get());
        if (status) *status = s;
        if (s != DD_OK) return {};
        return download(y.get());
    }
};

// Rows 1..13 and 40 (every tail of the 6- and 2-row tiles), outputs off the 4-row tiles, K off 16 and 8 lanes.
TEST_P(LinearRowInvariantTest, MatchesTheDoubleReference) {
    for (int64_t k : {1, 15, 16, 17, 129, 768})
        for (int64_t m : {1, 2, 5, 7, 13, 40})
            for (bool bias : {true, false}) {
                const int64_t n = 71;
                SCOPED_TRACE("M=" + std::to_string(m) + " K=" + std::to_string(k) + (bias ? " bias" : " no bias"));
                const auto xs = rng.uniform(m * k, -1, 1), ws = rng.uniform(n * k, -1, 1);
                const auto bs = bias ? rng.uniform(n, -1, 1) : std::vector<float>{};
                dd_status s;
                const std::vector<float> y = run(xs, ws, bs, m, n, k, &s);
                if (refused(s)) return;
                ASSERT_EQ(s, DD_OK) << dd_last_error();
                EXPECT_TRUE(AllClose(y, ddref::linear(xs, ws, bs, m, n, k), dot_bound(k)));
            }
}

// The property the conditioning table rests on: a row made among 40 (one thread or two), alone, or among 3 others,
// and a block of columns made from its weight rows alone, all give the same bits.
TEST_P(LinearRowInvariantTest, RowsAndColumnsDoNotDependOnTheOthers) {
    const int64_t m = 40, n = 300, k = 768;
    const auto xs = rng.uniform(m * k, -1, 1), ws = rng.uniform(n * k, -1, 1), bs = rng.uniform(n, -1, 1);
    dd_status s;
    const std::vector<float> all = run(xs, ws, bs, m, n, k, &s);
    if (refused(s)) return;
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    const int before = dd_num_threads();
    dd_set_num_threads(1);
    const std::vector<float> one_thread = run(xs, ws, bs, m, n, k);
    dd_set_num_threads(before);
    EXPECT_TRUE(same_bits(all, one_thread)) << "1 thread vs " << before;
    for (int64_t r : {0, 17, 39}) {
        const std::vector<float> x1(xs.begin() + r * k, xs.begin() + (r + 1) * k);
        EXPECT_TRUE(same_bits(run(x1, ws, bs, 1, n, k), std::vector<float>(all.begin() + r * n, all.begin() + (r + 1) * n)))
            << "row " << r << " alone";
    }
    const int64_t r0 = 35;  // rows 35..38 as a batch of 4
    const std::vector<float> x4(xs.begin() + r0 * k, xs.begin() + (r0 + 4) * k);
    EXPECT_TRUE(same_bits(run(x4, ws, bs, 4, n, k), std::vector<float>(all.begin() + r0 * n, all.begin() + (r0 + 4) * n)));
    const int64_t j0 = 65, nj = 7;  // weight rows 65..71: columns off the 64-row thread blocks and 4-row tiles
    const std::vector<float> wj(ws.begin() + j0 * k, ws.begin() + (j0 + nj) * k), bj(bs.begin() + j0, bs.begin() + j0 + nj);
    const std::vector<float> cols = run(xs, wj, bj, m, nj, k);
    std::vector<float> want;
    for (int64_t r = 0; r < m; ++r) want.insert(want.end(), all.begin() + r * n + j0, all.begin() + r * n + j0 + nj);
    EXPECT_TRUE(same_bits(cols, want)) << "columns " << j0 << ".." << j0 + nj - 1 << " alone";
}

TEST_P(LinearRowInvariantTest, BadInputIsATypedError) {
    const int64_t m = 3, n = 5, k = 16;
    Tensor x = upload_f32(backend(), rng.uniform(m * k, -1, 1), {m, k}), w = upload_f32(backend(), rng.uniform(n * k, -1, 1), {n, k});
    Tensor y = new_tensor(backend(), DD_F32, {m, n}), narrow_y = new_tensor(backend(), DD_F32, {m, n + 1});
    Tensor short_b = upload_f32(backend(), rng.uniform(n - 1, -1, 1), {n - 1});
    EXPECT_TRUE(FailsWith(dd_linear_row_invariant(x.get(), w.get(), nullptr, narrow_y.get()), DD_ERR_SHAPE,
                          {"dd_linear_row_invariant", "'y'", "rows of w"}));
    EXPECT_TRUE(FailsWith(dd_linear_row_invariant(x.get(), w.get(), short_b.get(), y.get()), DD_ERR_SHAPE,
                          {"dd_linear_row_invariant", "'bias'"}));
    EXPECT_TRUE(FailsWith(dd_linear_row_invariant(nullptr, w.get(), nullptr, y.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_linear_row_invariant", "'x'"}));
    if (backend().device_type == DD_DEVICE_CPU && gemm_precision(backend()) == DD_PRECISION_BF16) {
        Tensor xb = converted(backend(), x, DD_BF16);
        EXPECT_TRUE(FailsWith(dd_linear_row_invariant(xb.get(), w.get(), nullptr, y.get()), DD_ERR_DTYPE,
                              {"dd_linear_row_invariant", "'x'", "bf16"}));
    }
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(LinearRowInvariantTest);

}  // namespace
