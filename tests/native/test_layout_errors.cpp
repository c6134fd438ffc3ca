// Error paths of the embedding-path ops (patchify, unpatchify, timestep_embedding, add_broadcast):
// status plus a message naming the tensor and its expected and actual shapes.
#include "test_support.h"

namespace {

using namespace ddtest;

Tensor f32(const Shape& s) { return upload_f32(all_backends()[0], std::vector<float>(numel(s), 0.5f), s); }

TEST(PatchifyErrors, EachCheckNamesTheTensor) {
    Tensor x = f32({2, 3, 10, 6}), out = f32({2, 15, 12}), odd = f32({2, 3, 9, 6}), narrow = f32({2, 15, 11});
    Tensor xb = f32({2, 3, 10, 12}), strided = view(xb, {2, 3, 10, 6}, {360, 120, 12, 1}, 0);
    EXPECT_TRUE(FailsWith(dd_patchify(odd.get(), 2, out.get()), DD_ERR_SHAPE,
                          {"dd_patchify", "[2,3,9,6]", "patch size 2"}));
    EXPECT_TRUE(FailsWith(dd_patchify(x.get(), 0, out.get()), DD_ERR_SHAPE, {"patch size 0"}));
    EXPECT_TRUE(FailsWith(dd_patchify(x.get(), 2, narrow.get()), DD_ERR_SHAPE, {"'out'", "[2,15,11]", "[2,15,12]"}));
    EXPECT_TRUE(FailsWith(dd_patchify(strided.get(), 2, out.get()), DD_ERR_INVALID_ARGUMENT, {"'x'", "contiguous"}));
    EXPECT_TRUE(FailsWith(dd_patchify(nullptr, 2, out.get()), DD_ERR_INVALID_ARGUMENT, {"'x'", "NULL"}));
}

TEST(UnpatchifyErrors, EachCheckNamesTheTensor) {
    Tensor tokens = f32({2, 15, 12}), out = f32({2, 3, 10, 6});
    Tensor short_tokens = f32({2, 14, 12}), odd = f32({2, 3, 10, 5});
    Tensor tb = f32({2, 16, 12}), ragged = view(tb, {2, 15, 12}, {16 * 12, 12, 1}, 0);  // batch gap of one token
    EXPECT_TRUE(FailsWith(dd_unpatchify(short_tokens.get(), 2, out.get()), DD_ERR_SHAPE,
                          {"dd_unpatchify", "'tokens'", "[2,14,12]", "[2,15,12]"}));
    EXPECT_TRUE(FailsWith(dd_unpatchify(tokens.get(), 2, odd.get()), DD_ERR_SHAPE, {"[2,3,10,5]", "patch size 2"}));
    EXPECT_TRUE(FailsWith(dd_unpatchify(ragged.get(), 2, out.get()), DD_ERR_INVALID_ARGUMENT, {"'tokens'", "strided"}));
}

TEST(TimestepEmbeddingErrors, EachCheckNamesTheTensor) {
    Tensor t = f32({6}), out = f32({6, 256}), short_out = f32({5, 256}), ti = new_cpu(DD_I32, {6});
    EXPECT_TRUE(FailsWith(dd_timestep_embedding(t.get(), 1.f, out.get()), DD_ERR_INVALID_ARGUMENT, {"max_period"}));
    EXPECT_TRUE(FailsWith(dd_timestep_embedding(t.get(), 10000.f, short_out.get()), DD_ERR_SHAPE,
                          {"'out'", "[5,256]", "[6,*]"}));
    EXPECT_TRUE(FailsWith(dd_timestep_embedding(ti.get(), 10000.f, out.get()), DD_ERR_DTYPE, {"'t'", "i32"}));
}

TEST(AddBroadcastErrors, EachCheckNamesTheTensor) {
    Tensor y = f32({3, 37, 72}), wide_b = f32({37, 73}), y2 = f32({37, 72});
    EXPECT_TRUE(FailsWith(dd_add_broadcast(y.get(), wide_b.get()), DD_ERR_SHAPE,
                          {"dd_add_broadcast", "'b'", "[37,73]", "[37,72]"}));
    EXPECT_TRUE(FailsWith(dd_add_broadcast(y2.get(), wide_b.get()), DD_ERR_SHAPE, {"'y'", "[37,72]", "rank 3"}));
}

}  // namespace
