// cuda-kernels/embed_ops.cu under emulation: patchify / unpatchify exactly (pure copies), timestep
// features against the CPU's float32 recipe (within 1 ulp), broadcast add against a double reference.
#include <cmath>
#include <cstring>

#include "../emu_test_util.h"
#include "embed_ops.cuh"
#include "../../../../native/src/cpu/reference_expf.h"

using emu_test::DevBuf;
namespace k = dd::cuda_kernels;

namespace {

std::vector<float> randv(emu_test::Rng& rng, size_t n) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.normal();
    return v;
}

void check_patch(int64_t N, int64_t C, int64_t H, int64_t W, int64_t p) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " C " + std::to_string(C) + " H " + std::to_string(H) + " W " + std::to_string(W) +
                 " p " + std::to_string(p));
    const int64_t gh = H / p, gw = W / p, L = gh * gw, cols = C * p * p, tok_st = cols + 3;
    const auto x = randv(rng, N * C * H * W);
    DevBuf<float> dx(x), dtok(std::vector<float>(N * L * tok_st, -9.0f));
    ASSERT_EQ(k::patchify(dx.p, dtok.p, tok_st, N, C, H, W, p, 0), cudaSuccess);
    std::vector<float> ref(N * L * tok_st, -9.0f);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t w = 0; w < W; ++w)
                    ref[(n * L + (h / p) * gw + w / p) * tok_st + (c * p + h % p) * p + w % p] =
                        x[((n * C + c) * H + h) * W + w];
    EXPECT_EQ(dtok.get(), ref);

    // unpatchify reads channel-last patches (a, b, ch)
    const auto tok = randv(rng, N * L * tok_st);
    DevBuf<float> dt(tok), dout(N * C * H * W);
    ASSERT_EQ(k::unpatchify(dt.p, tok_st, dout.p, N, C, H, W, p, 0), cudaSuccess);
    std::vector<float> img(N * C * H * W);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t ch = 0; ch < C; ++ch)
            for (int64_t h = 0; h < H; ++h)
                for (int64_t w = 0; w < W; ++w)
                    img[((n * C + ch) * H + h) * W + w] =
                        tok[(n * L + (h / p) * gw + w / p) * tok_st + ((h % p) * p + w % p) * C + ch];
    EXPECT_EQ(dout.get(), img);
}

// The CPU backend's float32 exp, which the kernel must equal bit for bit.
float cpu_expf(float x) { return dd::reference_expf(x); }

int64_t ulp_diff(float a, float b) {
    int32_t ia, ib;
    std::memcpy(&ia, &a, 4), std::memcpy(&ib, &b, 4);
    if (ia < 0) ia = INT32_MIN - ia;  // map to a monotone integer line (-0 == +0)
    if (ib < 0) ib = INT32_MIN - ib;
    return std::llabs((int64_t)ia - ib);
}

void check_timestep(int64_t N, int64_t dim, float max_period) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace() + " dim " + std::to_string(dim));
    std::vector<float> t(N);
    for (auto& v : t) v = (float)rng.integer(0, 999) + (rng.integer(0, 1) ? rng.uniform(0.0f, 1.0f) : 0.0f);
    t[0] = 999.0f;
    DevBuf<float> dt(t), dout(std::vector<float>(N * dim, 5.0f));
    ASSERT_EQ(k::timestep_embedding(dt.p, dout.p, N, dim, max_period, 0), cudaSuccess);
    const auto got = dout.get();
    const int64_t half = dim / 2;
    const float neg_log = (float)-std::log((double)max_period);
    int64_t worst = 0;
    for (int64_t n = 0; n < N; ++n) {
        for (int64_t j = 0; j < half; ++j) {
            const float a = t[n] * cpu_expf((neg_log * (float)j) / (float)half);
            worst = std::max(worst, ulp_diff(got[n * dim + j], (float)std::cos((double)a)));
            worst = std::max(worst, ulp_diff(got[n * dim + half + j], (float)std::sin((double)a)));
        }
        if (dim % 2) {
            EXPECT_EQ(got[n * dim + dim - 1], 0.0f);
        }
    }
    // frequencies are bit-identical by construction; cos / sin rounded once from double: <= 1 ulp
    EXPECT_LE(worst, 1);
}

}  // namespace

TEST(EmuEmbed, PatchifyUnpatchify) {
    check_patch(2, 4, 8, 6, 2);
    check_patch(1, 3, 9, 15, 3);  // odd patch size, non-square
    check_patch(2, 5, 7, 7, 1);   // p = 1
    check_patch(1, 1, 8, 8, 4);
}

TEST(EmuEmbed, TimestepEmbedding) {
    check_timestep(7, 256, 10000.0f);  // DiT's frequency_embedding_size
    check_timestep(3, 33, 10000.0f);   // odd: zero column
    check_timestep(2, 1, 10000.0f);    // half = 0: only the zero column
    check_timestep(2, 18, 100.0f);
}

TEST(EmuEmbed, AddBroadcast) {
    emu_test::Rng rng;
    SCOPED_TRACE(rng.trace());
    const int64_t N = 3, R = 17, D = 259, y_sr = D + 1, y_sn = R * y_sr + 2, b_sr = D + 5;
    const auto y = randv(rng, N * y_sn), b = randv(rng, R * b_sr);
    DevBuf<float> dy(y), db(b);
    ASSERT_EQ(k::add_broadcast(dy.p, y_sn, y_sr, db.p, b_sr, N, R, D, 0), cudaSuccess);
    auto ref = y;  // one fp32 addition per element: exact against the same fp32 sum
    for (int64_t n = 0; n < N; ++n)
        for (int64_t r = 0; r < R; ++r)
            for (int64_t c = 0; c < D; ++c) ref[n * y_sn + r * y_sr + c] = y[n * y_sn + r * y_sr + c] + b[r * b_sr + c];
    EXPECT_EQ(dy.get(), ref);
}

TEST(EmuEmbed, BadArguments) {
    DevBuf<float> d(64);
    EXPECT_EQ(k::patchify(d.p, d.p, 12, 1, 3, 5, 4, 2, 0), cudaErrorInvalidValue);  // H not a multiple of p
    EXPECT_EQ(k::unpatchify(d.p, 4, d.p, 1, 3, 4, 4, 2, 0), cudaErrorInvalidValue);  // tok_st < C*p*p
    EXPECT_EQ(k::timestep_embedding(d.p, d.p, 1, 0, 10000.0f, 0), cudaErrorInvalidValue);
}
