// The width-sliced MLP's fused forms on the CPU, against the double reference and bit for bit the two ops they
// replace: dd_linear_out_blocks_gelu (dd_linear_out_blocks then dd_gelu_tanh), dd_linear_in_blocks_gated_residual
// (dd_linear_in_blocks then dd_gated_residual_add); in fp32 and bf16, on enough rows to split across threads. Typed
// refusals elsewhere.
#include <cmath>
#include <cstring>

#include "compare.h"
#include "reference.h"
#include "reference_routing.h"
#include "test_support.h"

namespace {

using namespace ddtest;
using ddref::Blocks;

// 600 rows: rows x work passes for_row_chunks' threshold (2^20), so each thread finishes its own rows.
constexpr int64_t N = 4, T = 150, K = 129, W = 96, D = 64;
const Blocks kOutBlocks = {40, 13, 0, 7, 7, 0, 7, 9, 70, 1, 45, 5};  // rows of w [W, K], out of order and empty
const Blocks kInBlocks = {100, 28, 3, 0, 0, 17, 17, 30, 128, 1};     // columns of w [D, K]

class SlicedFusedTest : public OpTest {
protected:
    bool bf16() const { return gemm_precision(backend()) == DD_PRECISION_BF16; }
    // x [N, T, width] in f32, or in bf16 (bf16 precision: the CPU's bf16 forward); *held: the values it holds
    Tensor input(int64_t width, int dtype, std::vector<float>* held = nullptr) {
        Tensor x = upload_f32(backend(), rng.uniform(N * T * width, -1, 1), {N, T, width});
        if (dtype != DD_F32) x = converted(backend(), x, DD_BF16);
        if (held) *held = download(converted(backend(), x, DD_F32).get());
        return x;
    }
    // The sliced products' bound (test_sliced_ops.cpp): K + 8 terms, operands rounded to bf16 in bf16 precision.
    Tolerance gemm() const {
        return rounded_operand_gemm(bf16() ? bf16_unit_roundoff() : 0, K + 8, {1e-5, 1e-5, 0});
    }
    template <class E>
    static bool same_bits(const std::vector<E>& a, const std::vector<E>& b) {
        return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(E)) == 0;
    }
    // On a backend without the fused forms: the typed refusal naming the op (the forward runs the two ops there).
    bool refused(dd_status s, const char* op) {
        if (backend().device_type == DD_DEVICE_CPU) return false;
        EXPECT_TRUE(FailsWith(s, DD_ERR_UNSUPPORTED, {op, "not implemented"}));
        return true;
    }
};

TEST_P(SlicedFusedTest, OutBlocksGeluIsTheProductThenTheGelu) {
    const int64_t total = ddref::block_total(kOutBlocks);
    const int nb = (int)kOutBlocks.size() / 2;
    const auto ws = rng.uniform(W * K, -1, 1), bs = rng.uniform(W, -1, 1);
    Tensor w = upload_f32(backend(), ws, {W, K}), b = upload_f32(backend(), bs, {W});
    std::vector<int> dtypes = {DD_F32};
    if (bf16()) dtypes.push_back(DD_BF16);  // bf16 x and hidden, as the bf16 forward's
    for (int dt : dtypes) {
        SCOPED_TRACE(dt == DD_BF16 ? "bf16 x and y" : "f32 x and y");
        std::vector<float> xs;
        Tensor x = input(K, dt, &xs);
        Tensor fused = new_tensor(backend(), dt, {N, T, total}), parts = new_tensor(backend(), dt, {N, T, total});
        const dd_status s = dd_linear_out_blocks_gelu(x.get(), w.get(), b.get(), kOutBlocks.data(), nb, fused.get());
        if (refused(s, "dd_linear_out_blocks_gelu")) return;
        ASSERT_EQ(s, DD_OK) << dd_last_error();
        DD_RUN_OP(dd_linear_out_blocks(x.get(), w.get(), b.get(), kOutBlocks.data(), nb, parts.get()));
        DD_RUN_OP(dd_gelu_tanh(parts.get(), parts.get()));
        if (dt == DD_F32) EXPECT_TRUE(same_bits(download<float>(fused.get()), download<float>(parts.get())));
        else EXPECT_TRUE(same_bits(download<uint16_t>(fused.get()), download<uint16_t>(parts.get())));
        // against the double reference: the product's bound through |gelu'| <= 1.13, the fp32 GELU's 1e-5; a bf16 y
        // adds the bf16 kernel's 1.2e-4 (cpu_kernels.h) and its rounding's half ulp
        const std::vector<float> y = download(converted(backend(), fused, DD_F32).get());
        const Tolerance g = gemm();
        const double rtol = dt == DD_BF16 ? 1.2e-4 + 1.01 * std::ldexp(1.0, -8) : 1e-5;
        EXPECT_TRUE(AllClose(y, ddref::gelu_tanh_of(ddref::linear_out_blocks(xs, ws, bs, kOutBlocks, N * T, K)),
                             {rtol, 1.01 * g.per_magnitude, 1e-12}));
        // and the GELU did happen: negative products gave values in (-0.171, 0] (GELU's minimum is -0.170)
        size_t negative = 0;
        for (float v : y) negative += v < 0.f;
        EXPECT_GT(negative, y.size() / 8);
        for (float v : y) ASSERT_GT(v, -0.171f);
    }
}

TEST_P(SlicedFusedTest, InBlocksGatedResidualIsTheProductThenTheGatedAdd) {
    const int64_t total = ddref::block_total(kInBlocks);
    const auto ws = rng.uniform(D * K, -1, 1), bs = rng.uniform(D, -1, 1), gs = rng.uniform(N * D, -2, 2);
    Tensor w = upload_f32(backend(), ws, {D, K}), b = upload_f32(backend(), bs, {D});
    Tensor gate = upload_f32(backend(), gs, {N, D});
    const auto h0 = rng.uniform(N * T * D, -1, 1);
    std::vector<int> dtypes = {DD_F32};
    if (bf16()) dtypes.push_back(DD_BF16);
    for (int dt : dtypes)
        for (bool gated : {true, false})
            for (int nb : {(int)kInBlocks.size() / 2, 0}) {  // 0 blocks: h += gate * bias
                SCOPED_TRACE(std::string(dt == DD_BF16 ? "bf16 x" : "f32 x") + (gated ? ", gate" : ", no gate") +
                             ", " + std::to_string(nb) + " blocks");
                std::vector<float> xs;
                Tensor x = input(nb ? total : 0, dt, &xs);
                Tensor fused = upload_f32(backend(), h0, {N, T, D}), parts = upload_f32(backend(), h0, {N, T, D});
                Tensor sum = new_tensor(backend(), DD_F32, {N, T, D});
                const dd_tensor* g = gated ? gate.get() : nullptr;
                const dd_status s =
                    dd_linear_in_blocks_gated_residual(x.get(), w.get(), b.get(), kInBlocks.data(), nb, g, fused.get());
                if (refused(s, "dd_linear_in_blocks_gated_residual")) return;
                ASSERT_EQ(s, DD_OK) << dd_last_error();
                DD_RUN_OP(dd_linear_in_blocks(x.get(), w.get(), b.get(), kInBlocks.data(), nb, sum.get()));
                DD_RUN_OP(dd_gated_residual_add(parts.get(), g, sum.get()));
                const std::vector<float> got = download<float>(fused.get());
                EXPECT_TRUE(same_bits(got, download<float>(parts.get())));
                const Blocks used(kInBlocks.begin(), kInBlocks.begin() + 2 * nb);
                const Tolerance tol = gemm();
                EXPECT_TRUE(AllClose(got,
                                     gated_residual(h0, gated ? gs : std::vector<float>{},
                                                    ddref::linear_in_blocks(xs, ws, bs, used, N * T, D, K), T, D, tol),
                                     {0, tol.per_magnitude, 0}))
                    << "against the double reference";
                size_t changed = 0;
                for (size_t i = 0; i < got.size(); ++i) changed += got[i] != h0[i];
                EXPECT_GT(changed, got.size() * 9 / 10);
            }
}

// At DyDiT-B's widths a thread's share of rows runs in pieces that stay in its cache (1536 bf16 hidden columns: 512
// rows; 768 f32 sums: 256 rows); the pieces' products equal the whole share's, bit for bit.
TEST_P(SlicedFusedTest, PiecesOfRowsAtDiTBWidthsGiveTheSameBits) {
    if (backend().device_type != DD_DEVICE_CPU) GTEST_SKIP() << "the CPU's fused forms";
    const int64_t n = 8, t = 160, k = 768, hidden = 1536, d = 768;
    const int dt = bf16() ? DD_BF16 : DD_F32;
    auto up = [&](int64_t rows, int64_t cols) { return upload_f32(backend(), rng.uniform(rows * cols, -1, 1), {rows, cols}); };
    Tensor x = converted(backend(), upload_f32(backend(), rng.uniform(n * t * k, -1, 1), {n, t, k}), dt);
    Tensor w1 = up(hidden + 64, k), b1 = up(1, hidden + 64), w2 = up(d, k + 16), b2 = up(1, d), gate = up(n, d);
    Tensor b1v = view(b1, {hidden + 64}, {1}, 0), b2v = view(b2, {d}, {1}, 0);
    const Blocks out = {32, hidden}, in = {16, k};
    Tensor fused = new_tensor(backend(), dt, {n, t, hidden}), parts = new_tensor(backend(), dt, {n, t, hidden});
    DD_RUN_OP(dd_linear_out_blocks_gelu(x.get(), w1.get(), b1v.get(), out.data(), 1, fused.get()));
    DD_RUN_OP(dd_linear_out_blocks(x.get(), w1.get(), b1v.get(), out.data(), 1, parts.get()));
    DD_RUN_OP(dd_gelu_tanh(parts.get(), parts.get()));
    EXPECT_TRUE(same_bits(download(converted(backend(), fused, DD_F32).get()),
                          download(converted(backend(), parts, DD_F32).get())))
        << "fc1 + GELU";
    const auto h0 = rng.uniform(n * t * d, -1, 1);
    Tensor h1 = upload_f32(backend(), h0, {n, t, d}), h2 = upload_f32(backend(), h0, {n, t, d});
    Tensor sum = new_tensor(backend(), DD_F32, {n, t, d});
    DD_RUN_OP(dd_linear_in_blocks_gated_residual(x.get(), w2.get(), b2v.get(), in.data(), 1, gate.get(), h1.get()));
    DD_RUN_OP(dd_linear_in_blocks(x.get(), w2.get(), b2v.get(), in.data(), 1, sum.get()));
    DD_RUN_OP(dd_gated_residual_add(h2.get(), gate.get(), sum.get()));
    EXPECT_TRUE(same_bits(download<float>(h1.get()), download<float>(h2.get()))) << "fc2 + gated residual";
}

// Wrong gate, h or x: typed errors naming the tensor, h untouched.
TEST_P(SlicedFusedTest, BadInputsAreTypedErrors) {
    if (backend().device_type != DD_DEVICE_CPU) GTEST_SKIP() << "the CPU's fused forms";
    const int64_t total = ddref::block_total(kInBlocks);
    const int nb = (int)kInBlocks.size() / 2;
    Tensor w = upload_f32(backend(), rng.uniform(D * K, -1, 1), {D, K});
    Tensor x = input(total, DD_F32), x2 = upload_f32(backend(), rng.uniform(N * T * total, -1, 1), {N * T, total});
    const auto h0 = rng.uniform(N * T * D, -1, 1);
    Tensor h = upload_f32(backend(), h0, {N, T, D}), h16 = new_tensor(backend(), DD_BF16, {N, T, D});
    Tensor gate_wrong = upload_f32(backend(), rng.uniform(N * (D - 1), -1, 1), {N, D - 1});
    const char* op = "dd_linear_in_blocks_gated_residual";
    EXPECT_TRUE(FailsWith(dd_linear_in_blocks_gated_residual(x.get(), w.get(), nullptr, kInBlocks.data(), nb,
                                                             gate_wrong.get(), h.get()),
                          DD_ERR_SHAPE, {op, "'gate'"}));
    EXPECT_TRUE(FailsWith(dd_linear_in_blocks_gated_residual(x.get(), w.get(), nullptr, kInBlocks.data(), nb, nullptr,
                                                             h16.get()),
                          DD_ERR_DTYPE, {op, "'h'"}));
    EXPECT_TRUE(FailsWith(dd_linear_in_blocks_gated_residual(x2.get(), w.get(), nullptr, kInBlocks.data(), nb, nullptr,
                                                             h.get()),
                          DD_ERR_SHAPE, {op, "'x'"}));
    EXPECT_TRUE(same_bits(download<float>(h.get()), h0));
    const Blocks past = {90, 6};  // rows 90..95 of a 95-row w: one too many
    Tensor y = new_tensor(backend(), DD_F32, {N, T, 6});
    Tensor wo = upload_f32(backend(), rng.uniform((W - 1) * K, -1, 1), {W - 1, K});
    EXPECT_TRUE(FailsWith(dd_linear_out_blocks_gelu(input(K, DD_F32).get(), wo.get(), nullptr, past.data(), 1, y.get()),
                          DD_ERR_INVALID_ARGUMENT, {"dd_linear_out_blocks_gelu"}));
}

DD_INSTANTIATE_ON_GEMM_BACKENDS(SlicedFusedTest);

}  // namespace
