// Error paths of the indexed ops (gather_rows, scatter_add_rows) and of dd_copy: status, a message
// naming the tensor (and for indices the position and value), and no write when a check fails.
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t R = 53, D = 72, K = 29, S = 3;

Tensor f32(const Shape& s) { return upload_f32(all_backends()[0], std::vector<float>(numel(s), 0.5f), s); }

std::vector<int32_t> valid_index() {
    std::vector<int32_t> v(K);
    for (int64_t i = 0; i < K; ++i) v[i] = (int32_t)(i * 7 % R);
    return v;
}

Tensor index_with(int64_t pos, int32_t value, int32_t bound = R) {
    auto v = valid_index();
    for (auto& i : v) i %= bound;
    v[pos] = value;
    return upload_i32(all_backends()[0], v, {K});
}

TEST(GatherErrors, IndexValuesOutOfRange) {
    Tensor src = f32({R, D});
    const std::vector<float> sentinel(K * D, -7.f);
    Tensor dst = upload_f32(all_backends()[0], sentinel, {K, D});
    Tensor past_end = index_with(K - 1, (int32_t)R), negative = index_with(0, -1);
    EXPECT_TRUE(FailsWith(dd_gather_rows(src.get(), past_end.get(), dst.get()), DD_ERR_INVALID_ARGUMENT,
                          {"dd_gather_rows", "'index'[28] = 53", "[0, 53)"}));
    EXPECT_TRUE(FailsWith(dd_gather_rows(src.get(), negative.get(), dst.get()), DD_ERR_INVALID_ARGUMENT,
                          {"'index'[0] = -1"}));
    EXPECT_EQ(download(dst.get()), sentinel);
}

TEST(GatherErrors, DtypeShapeAndNull) {
    Tensor src = f32({R, D}), dst = f32({K, D}), wide_dst = f32({K, D + 1}), index = index_with(0, 0);
    Tensor index64 = new_cpu(DD_I64, {K}), index2 = upload_i32(all_backends()[0], valid_index(), {1, K});
    EXPECT_TRUE(FailsWith(dd_gather_rows(src.get(), index64.get(), dst.get()), DD_ERR_DTYPE,
                          {"'index'", "i64", "i32"}));
    EXPECT_TRUE(FailsWith(dd_gather_rows(src.get(), index2.get(), dst.get()), DD_ERR_SHAPE,
                          {"'index'", "[1,29]", "rank 1"}));
    EXPECT_TRUE(FailsWith(dd_gather_rows(src.get(), index.get(), wide_dst.get()), DD_ERR_SHAPE,
                          {"'dst'", "[29,73]", "[29,72]"}));
    EXPECT_TRUE(FailsWith(dd_gather_rows(nullptr, index.get(), dst.get()), DD_ERR_INVALID_ARGUMENT, {"'src'", "NULL"}));
}

class ScatterErrors : public testing::Test {
protected:
    const std::vector<float> sentinel = std::vector<float>(R * D, -7.f);
    Tensor dst = upload_f32(all_backends()[0], sentinel, {R, D});
    Tensor src = f32({K, D}), gate = f32({S, D}), index = index_with(0, 0);
    Tensor row_sample = index_with(0, 0, S);
};

TEST_F(ScatterErrors, IndexAndRowSampleOutOfRangeWriteNothing) {
    Tensor bad_index = index_with(K - 1, (int32_t)R), bad_rows = index_with(K - 1, (int32_t)S, S);
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), bad_index.get(), src.get(), gate.get(), row_sample.get()),
                          DD_ERR_INVALID_ARGUMENT, {"dd_scatter_add_rows", "'index'[28] = 53", "[0, 53)"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), gate.get(), bad_rows.get()),
                          DD_ERR_INVALID_ARGUMENT, {"'row_sample'[28] = 3", "[0, 3)"}));
    EXPECT_EQ(download(dst.get()), sentinel);
}

TEST_F(ScatterErrors, GateAndRowSampleGoTogether) {
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), gate.get(), nullptr),
                          DD_ERR_INVALID_ARGUMENT, {"'gate'", "'row_sample'"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), nullptr, row_sample.get()),
                          DD_ERR_INVALID_ARGUMENT, {"'gate'", "'row_sample'"}));
    EXPECT_EQ(download(dst.get()), sentinel);
}

TEST_F(ScatterErrors, ShapesAndDtypes) {
    Tensor wide_gate = f32({S, D + 1});
    Tensor short_rows = upload_i32(all_backends()[0], std::vector<int32_t>(K - 1, 0), {K - 1});
    Tensor tall_src = f32({K + 1, D}), rows64 = new_cpu(DD_I64, {K});
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), wide_gate.get(), row_sample.get()),
                          DD_ERR_SHAPE, {"'gate'", "[3,73]", "[*,72]"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), gate.get(), short_rows.get()),
                          DD_ERR_SHAPE, {"'row_sample'", "[28]", "[29]"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), tall_src.get(), nullptr, nullptr), DD_ERR_SHAPE,
                          {"'src'", "[30,72]", "[29,72]"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(dst.get(), index.get(), src.get(), gate.get(), rows64.get()),
                          DD_ERR_DTYPE, {"'row_sample'", "i64", "i32"}));
    EXPECT_TRUE(FailsWith(dd_scatter_add_rows(nullptr, index.get(), src.get(), nullptr, nullptr),
                          DD_ERR_INVALID_ARGUMENT, {"'dst'", "NULL"}));
    EXPECT_EQ(download(dst.get()), sentinel);
}

TEST(CopyErrors, NullShapeAndDtype) {
    Tensor a = f32({2, 3}), b = f32({3, 2}), ai = new_cpu(DD_I32, {2, 3}), ah = new_cpu(DD_F16, {2, 3});
    EXPECT_TRUE(FailsWith(dd_copy(nullptr, a.get()), DD_ERR_INVALID_ARGUMENT, {"src", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_copy(a.get(), nullptr), DD_ERR_INVALID_ARGUMENT, {"dst", "NULL"}));
    EXPECT_TRUE(FailsWith(dd_copy(a.get(), b.get()), DD_ERR_SHAPE, {"[2,3]", "[3,2]"}));
    EXPECT_TRUE(FailsWith(dd_copy(a.get(), ai.get()), DD_ERR_DTYPE, {"f32", "i32"}));
    EXPECT_TRUE(FailsWith(dd_copy(ai.get(), ah.get()), DD_ERR_DTYPE, {"i32", "f16"}));
}

}  // namespace
