// dd_copy: f32 <-> bf16/f16 against bit patterns worked out by hand (round to nearest even, ties,
// overflow, subnormals), i32 <-> i64, and copies of strided views.
#include <cmath>
#include <cstring>
#include <limits>

#include "test_support.h"

namespace {

using namespace ddtest;

float from_bits(uint32_t u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// Converts `values` from f32 to `dtype` and returns the raw 16-bit patterns.
std::vector<uint16_t> to_half_bits(const std::vector<float>& values, int dtype) {
    const int64_t n = (int64_t)values.size();
    Tensor src = upload_f32(all_backends()[0], values, {n}), dst = new_cpu(dtype, {n});
    require_ok(dd_copy(src.get(), dst.get()), "dd_copy f32 -> 16 bit");
    return download<uint16_t>(dst.get());
}

// Converts raw 16-bit patterns of `dtype` to f32.
std::vector<float> from_half_bits(const std::vector<uint16_t>& bits, int dtype) {
    const int64_t n = (int64_t)bits.size();
    Tensor src = upload(all_backends()[0], dtype, bits, {n}), dst = new_cpu(DD_F32, {n});
    require_ok(dd_copy(src.get(), dst.get()), "dd_copy 16 bit -> f32");
    return download(dst.get());
}

struct HalfCase {
    float value;
    uint16_t bits;
    const char* why;
};

TEST(Copy, F32ToBf16RoundsToNearestEven) {
    const HalfCase cases[] = {
        {1.0f, 0x3F80, "exact"},
        {-2.5f, 0xC020, "exact"},
        {-0.0f, 0x8000, "sign of zero kept"},
        {65504.f, 0x4780, "0x477FE000: low half 0xE000 > 0x8000 rounds up to 65536"},
        {from_bits(0x3F808000), 0x3F80, "1 + 2^-8: tie, to even 0x3F80"},
        {from_bits(0x3F818000), 0x3F82, "1 + 3*2^-8: tie, to even 0x3F82"},
        {from_bits(0x3F808001), 0x3F81, "just above the tie rounds up"},
        {from_bits(0x3F807FFF), 0x3F80, "just below the tie rounds down"},
        {std::numeric_limits<float>::infinity(), 0x7F80, "inf"},
        {from_bits(0x7F7FFFFF), 0x7F80, "FLT_MAX rounds to inf"},
    };
    std::vector<float> in;
    for (const auto& c : cases) in.push_back(c.value);
    const auto bits = to_half_bits(in, DD_BF16);
    for (size_t i = 0; i < in.size(); ++i)
        EXPECT_EQ(bits[i], cases[i].bits) << std::hex << cases[i].why;
}

TEST(Copy, F32ToF16RoundsToNearestEven) {
    const HalfCase cases[] = {
        {1.0f, 0x3C00, "exact"},
        {-2.5f, 0xC100, "exact"},
        {65504.f, 0x7BFF, "largest f16"},
        {65519.f, 0x7BFF, "below the 65520 tie rounds down"},
        {65520.f, 0x7C00, "tie between 65504 (odd) and 65536: to even = inf"},
        {from_bits(0x33800000), 0x0001, "2^-24: smallest subnormal"},
        {from_bits(0x33000000), 0x0000, "2^-25: tie between 0 and 2^-24, to even 0"},
        {from_bits(0x33C00000), 0x0002, "3*2^-25: tie, to even 2*2^-24"},
        {from_bits(0x38800000), 0x0400, "2^-14: smallest normal"},
        {from_bits(0x387FE000), 0x0400, "2^-14 - 2^-25: subnormal tie rounds up into the smallest normal"},
        {from_bits(0x3FFFF000), 0x4000, "2 - 2^-12: tie, to even carries into the exponent"},
        {from_bits(0x3F801000), 0x3C00, "1 + 2^-11: tie, to even"},
        {from_bits(0x3F803000), 0x3C02, "1 + 3*2^-11: tie, to even"},
        {-std::numeric_limits<float>::infinity(), 0xFC00, "-inf"},
        {0.1f, 0x2E66, "0.1"},
    };
    std::vector<float> in;
    for (const auto& c : cases) in.push_back(c.value);
    const auto bits = to_half_bits(in, DD_F16);
    for (size_t i = 0; i < in.size(); ++i) EXPECT_EQ(bits[i], cases[i].bits) << std::hex << cases[i].why;
}

TEST(Copy, HalfToF32IsExact) {
    const auto bf = from_half_bits({0x3F80, 0xC020, 0x4780, 0x0001, 0xFF80}, DD_BF16);
    EXPECT_EQ(bf, (std::vector<float>{1.0f, -2.5f, 65536.f, from_bits(0x00010000), -INFINITY}));
    const auto h = from_half_bits({0x3C00, 0xC100, 0x7BFF, 0x0001, 0x03FF, 0x3555, 0x8000}, DD_F16);
    EXPECT_EQ(h, (std::vector<float>{1.0f, -2.5f, 65504.f, std::ldexp(1.f, -24), 1023 * std::ldexp(1.f, -24),
                                     0.333251953125f, -0.0f}));
    EXPECT_TRUE(std::signbit(h[6]));
}

TEST(Copy, NanStaysNan) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int dtype : {DD_BF16, DD_F16}) {
        SCOPED_TRACE(dd_dtype_name(dtype));
        const auto back = from_half_bits(to_half_bits({nan, -nan}, dtype), dtype);
        EXPECT_TRUE(std::isnan(back[0]));
        EXPECT_TRUE(std::isnan(back[1]));
    }
}

// Values exact in both formats survive f32 -> 16 bit -> f32 unchanged.
TEST(Copy, ExactValuesRoundTrip) {
    const std::vector<float> exact = {1.0f, -2.5f, 0.5f, 256.f, -3.0f, 0.15625f, 1024.f};
    for (int dtype : {DD_BF16, DD_F16}) {
        SCOPED_TRACE(dd_dtype_name(dtype));
        EXPECT_EQ(from_half_bits(to_half_bits(exact, dtype), dtype), exact);
    }
    const std::vector<float> f16_max = {65504.f, -65504.f};
    EXPECT_EQ(from_half_bits(to_half_bits(f16_max, DD_F16), DD_F16), f16_max);
}

TEST(Copy, I32ToI64AndBack) {
    const std::vector<int32_t> v = {0, 1, -1, 123456789, std::numeric_limits<int32_t>::max(),
                                    std::numeric_limits<int32_t>::min()};
    const int64_t n = (int64_t)v.size();
    Tensor a = upload_i32(all_backends()[0], v, {n}), wide = new_cpu(DD_I64, {n}), back = new_cpu(DD_I32, {n});
    ASSERT_EQ(dd_copy(a.get(), wide.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download<int64_t>(wide.get()), std::vector<int64_t>(v.begin(), v.end()));
    ASSERT_EQ(dd_copy(wide.get(), back.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download<int32_t>(back.get()), v);
}

// dd_copy takes any strides: a transposed view and a reversed (negative stride) view.
TEST(Copy, StridedViewsToDense) {
    std::vector<float> v(12);
    for (int i = 0; i < 12; ++i) v[i] = (float)i + 0.25f;
    Tensor base = upload_f32(all_backends()[0], v, {3, 4});
    Tensor transposed = view(base, {4, 3}, {1, 4}, 0), t_dense = new_cpu(DD_F32, {4, 3});
    ASSERT_EQ(dd_copy(transposed.get(), t_dense.get()), DD_OK) << dd_last_error();
    const auto t = download(t_dense.get());
    for (int r = 0; r < 4; ++r)
        for (int c = 0; c < 3; ++c) EXPECT_EQ(t[r * 3 + c], v[c * 4 + r]);

    Tensor reversed = view(base, {12}, {-1}, 11), r_dense = new_cpu(DD_BF16, {12}), r_back = new_cpu(DD_F32, {12});
    ASSERT_EQ(dd_copy(reversed.get(), r_dense.get()), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_copy(r_dense.get(), r_back.get()), DD_OK) << dd_last_error();
    const auto r = download(r_back.get());
    for (int i = 0; i < 12; ++i) EXPECT_EQ(r[i], v[11 - i]);  // i + 0.25 is exact in bf16 for i < 12
}

// Into a strided destination: only the view's elements change.
TEST(Copy, IntoStridedDestination) {
    Tensor src = upload_f32(all_backends()[0], std::vector<float>{1.5f, -2.5f, 3.5f}, {3});
    Tensor base = upload_f32(all_backends()[0], std::vector<float>(7, 9.f), {7});
    Tensor every_third = view(base, {3}, {3}, 0);
    ASSERT_EQ(dd_copy(src.get(), every_third.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download(base.get()), (std::vector<float>{1.5f, 9, 9, -2.5f, 9, 9, 3.5f}));
}

}  // namespace
