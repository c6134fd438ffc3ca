// dd_layernorm_modulate into a bf16 y: the f32 result rounded once, bit for bit what dd_copy (f32 -> bf16) makes of
// the f32 output, so a linear reading it sees the values its own f32 -> bf16 rounding would have given.
#include <cstring>

#include "test_support.h"

namespace {

using namespace ddtest;

class LayerNormBf16OutTest : public OpTest {};

TEST_P(LayerNormBf16OutTest, EqualsTheRoundedF32Output) {
    const int64_t N = 3, T = 17, D = 72;
    Tensor x = upload_f32(backend(), rng.uniform(N * T * D, -3, 3), {N, T, D});
    Tensor shift = upload_f32(backend(), rng.uniform(N * D, -1, 1), {N, D});
    Tensor scale = upload_f32(backend(), rng.uniform(N * D, -1, 1), {N, D});
    Tensor y32 = new_tensor(backend(), DD_F32, {N, T, D}), y16 = new_tensor(backend(), DD_BF16, {N, T, D});
    const dd_status s = dd_layernorm_modulate(x.get(), shift.get(), scale.get(), 1e-6f, y16.get());
    if (s == DD_ERR_UNSUPPORTED) {  // a backend that writes f32 only refuses, naming the tensor
        EXPECT_NE(std::string(dd_last_error()).find("'y'"), std::string::npos) << dd_last_error();
        GTEST_SKIP() << backend().name << ": " << dd_last_error();
    }
    ASSERT_EQ(s, DD_OK) << dd_last_error();
    DD_RUN_OP(dd_layernorm_modulate(x.get(), shift.get(), scale.get(), 1e-6f, y32.get()));
    Tensor want = new_tensor(backend(), DD_BF16, {N, T, D});
    DD_RUN_OP(dd_copy(y32.get(), want.get()));
    std::vector<uint16_t> got((size_t)(N * T * D)), ref(got.size());
    require_ok(dd_tensor_read(y16.get(), got.data(), (int64_t)got.size() * 2, 0), "read y16");
    require_ok(dd_tensor_read(want.get(), ref.data(), (int64_t)ref.size() * 2, 0), "read want");
    size_t differ = 0;
    for (size_t i = 0; i < got.size(); ++i) differ += got[i] != ref[i];
    EXPECT_EQ(differ, 0u) << "bf16 elements that differ from the rounded f32 output";
    // in place is f32 only: a bf16 y over x's memory is refused
    Tensor x16 = new_tensor(backend(), DD_BF16, {N, T, D});
    EXPECT_TRUE(FailsWith(dd_layernorm_modulate(x16.get(), nullptr, nullptr, 1e-6f, y32.get()), DD_ERR_DTYPE,
                          {"dd_layernorm_modulate", "'x'"}));
}

DD_INSTANTIATE_ON_ALL_BACKENDS(LayerNormBf16OutTest);

}  // namespace
