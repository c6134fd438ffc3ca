// cuda-kernels/gated_residual.cu under emulation: copies are compared exactly, additions against a
// double-precision reference.
#include <algorithm>
#include <cmath>

#include "../emu_test_util.h"
#include "gated_residual.cuh"

using emu_test::DevBuf;
namespace k = dd::cuda_kernels;

namespace {

std::vector<float> randv(emu_test::Rng& rng, size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.normal();
    return v;
}

// One fp32 multiply-add per element (or a sum of m terms for repeated scatter rows): |err| is at most
// a few ulp of the magnitudes involved; inputs are O(1), so 1e-5 absolute + relative is ample.
void expect_close(const std::vector<float>& got, const std::vector<double>& ref, double tol = 1e-5) {
    ASSERT_EQ(got.size(), ref.size());
    for (size_t i = 0; i < got.size(); ++i)
        ASSERT_LE(std::fabs(got[i] - ref[i]), tol * std::max(1.0, std::fabs(ref[i]))) << "at " << i;
}

void check_gated(int64_t N, int64_t T, int64_t D, bool gated) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " N " + std::to_string(N) + " T " + std::to_string(T) + " D " + std::to_string(D));
    const int64_t h_st = D + 2, h_sn = T * h_st + 1, x_st = D + 5, x_sn = T * x_st + 3, g_sn = 3 * D;
    auto h = randv(rng, N * h_sn), x = randv(rng, N * x_sn), g = randv(rng, N * g_sn);
    DevBuf<float> dh(h), dx(x), dg(g);
    ASSERT_EQ(k::gated_residual_add(dh.p, h_sn, h_st, dx.p, x_sn, x_st, gated ? dg.p : nullptr, g_sn, N, T, D, 0),
              cudaSuccess);
    std::vector<double> ref(h.begin(), h.end());  // padding must stay as it was
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t c = 0; c < D; ++c)
                ref[n * h_sn + t * h_st + c] +=
                    (gated ? (double)g[n * g_sn + c] : 1.0) * x[n * x_sn + t * x_st + c];
    expect_close(dh.get(), ref);
}

}  // namespace

TEST(EmuGatedResidual, GatedAndPlain) {
    check_gated(3, 13, 389, true);
    check_gated(2, 7, 1152, false);
    check_gated(1, 1, 1, true);
}

TEST(EmuRowOps, GatherAndScatterAreExact) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t R = 41, K = 23, D = 301, src_rs = D + 3, dst_rs = D + 1;
    auto src = randv(rng, R * src_rs);
    std::vector<int32_t> idx(K);
    for (auto& i : idx) i = rng.integer(0, (int)R - 1);  // gather may repeat
    DevBuf<float> dsrc(src), ddst(std::vector<float>(K * dst_rs, -7.0f));
    DevBuf<int32_t> didx(idx);
    ASSERT_EQ(k::gather_rows(dsrc.p, src_rs, didx.p, ddst.p, dst_rs, K, D, 0), cudaSuccess);
    auto got = ddst.get();
    for (int64_t i = 0; i < K; ++i)
        for (int64_t c = 0; c < dst_rs; ++c)
            ASSERT_EQ(got[i * dst_rs + c], c < D ? src[idx[i] * src_rs + c] : -7.0f) << i << "," << c;

    // scatter: a permutation prefix (no repeats); untouched rows keep their value
    std::vector<int32_t> perm(R);
    for (int64_t r = 0; r < R; ++r) perm[r] = (int32_t)r;
    std::shuffle(perm.begin(), perm.end(), rng.gen);
    perm.resize(K);
    auto rows = randv(rng, K * src_rs), dst = randv(rng, R * dst_rs);
    DevBuf<float> drows(rows), dd(dst);
    DevBuf<int32_t> dperm(perm);
    ASSERT_EQ(k::scatter_rows(dd.p, dst_rs, dperm.p, drows.p, src_rs, K, D, 0), cudaSuccess);
    auto ref = dst;
    for (int64_t i = 0; i < K; ++i)
        for (int64_t c = 0; c < D; ++c) ref[perm[i] * dst_rs + c] = rows[i * src_rs + c];
    EXPECT_EQ(dd.get(), ref);
    EXPECT_EQ(k::gather_rows(dsrc.p, src_rs, didx.p, ddst.p, dst_rs, 0, D, 0), cudaSuccess);  // K = 0
}

TEST(EmuRowOps, ScatterAddRepeatedAndUnique) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t R = 9, K = 40, S = 3, D = 263, dst_rs = D + 4, src_rs = D + 1, g_rs = D + 2;
    auto dst = randv(rng, R * dst_rs), src = randv(rng, K * src_rs), gate = randv(rng, S * g_rs);
    std::vector<int32_t> idx(K), rs(K);
    for (int64_t i = 0; i < K; ++i) idx[i] = rng.integer(0, (int)R - 1), rs[i] = rng.integer(0, (int)S - 1);
    idx[1] = idx[0];  // at least one repeat
    DevBuf<float> dsrc(src), dgate(gate);
    DevBuf<int32_t> didx(idx), drs(rs);
    for (bool gated : {true, false}) {
        DevBuf<float> dd(dst);
        ASSERT_EQ(k::scatter_add_rows(dd.p, dst_rs, didx.p, dsrc.p, src_rs, gated ? dgate.p : nullptr, g_rs, drs.p, K,
                                      D, false, 0),
                  cudaSuccess);
        std::vector<double> ref(dst.begin(), dst.end());
        for (int64_t i = 0; i < K; ++i)
            for (int64_t c = 0; c < D; ++c)
                ref[idx[i] * dst_rs + c] += (gated ? (double)gate[rs[i] * g_rs + c] : 1.0) * src[i * src_rs + c];
        expect_close(dd.get(), ref, 2e-5);  // up to ~K/R·2 repeated fp32 additions per element
    }
    // unique path: plain h += g * x per element (fma or not: within 1e-5)
    std::vector<int32_t> perm(R);
    for (int64_t r = 0; r < R; ++r) perm[r] = (int32_t)(R - 1 - r);
    DevBuf<int32_t> dperm(perm);
    DevBuf<float> dd(dst);
    ASSERT_EQ(k::scatter_add_rows(dd.p, dst_rs, dperm.p, dsrc.p, src_rs, dgate.p, g_rs, drs.p, R, D, true, 0),
              cudaSuccess);
    std::vector<double> ref(dst.begin(), dst.end());
    for (int64_t i = 0; i < R; ++i)
        for (int64_t c = 0; c < D; ++c) ref[perm[i] * dst_rs + c] += (double)gate[rs[i] * g_rs + c] * src[i * src_rs + c];
    expect_close(dd.get(), ref);
}

TEST(EmuRowOps, ScaleRows) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t R = 19, D = 517, rs = D + 3;
    auto x = randv(rng, R * rs), s = randv(rng, R);
    DevBuf<float> dx(x), ds(s);
    ASSERT_EQ(k::scale_rows(dx.p, rs, ds.p, R, D, 0), cudaSuccess);
    auto ref = x;
    for (int64_t r = 0; r < R; ++r)
        for (int64_t c = 0; c < D; ++c) ref[r * rs + c] = x[r * rs + c] * s[r];
    EXPECT_EQ(dx.get(), ref);  // one fp32 multiply: exact match
}

TEST(EmuRowOps, BadArguments) {
    EXPECT_EQ(k::gather_rows(nullptr, 1, nullptr, nullptr, 1, 3, 1, 0), cudaErrorInvalidValue);
    EXPECT_EQ(k::scatter_add_rows(nullptr, 1, nullptr, nullptr, 1, nullptr, 0, nullptr, 3, 1, false, 0),
              cudaErrorInvalidValue);
}
