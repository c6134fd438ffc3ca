// Tensor handles: creation and its argument checks, metadata, host transfers, strided views and their
// bounds, and storage lifetime (a view keeps storage alive; create/free cycles do not leak).
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <string>

#include "test_support.h"

namespace {

using namespace ddtest;

TEST(Tensor, NewCpuTensorIsDenseRowMajor) {
    Tensor t = new_cpu(DD_F32, {2, 3, 5});
    EXPECT_EQ(dd_tensor_ndim(t.get()), 3);
    EXPECT_EQ(dd_tensor_dim(t.get(), 0), 2);
    EXPECT_EQ(dd_tensor_dim(t.get(), 2), 5);
    EXPECT_EQ(dd_tensor_dim(t.get(), 3), -1);
    EXPECT_EQ(dd_tensor_stride(t.get(), 0), 15);
    EXPECT_EQ(dd_tensor_stride(t.get(), 1), 5);
    EXPECT_EQ(dd_tensor_stride(t.get(), 2), 1);
    EXPECT_EQ(dd_tensor_offset(t.get()), 0);
    EXPECT_EQ(dd_tensor_numel(t.get()), 30);
    EXPECT_EQ(dd_tensor_is_contiguous(t.get()), 1);
    EXPECT_EQ(dd_tensor_dtype(t.get()), DD_F32);
    EXPECT_EQ(dd_tensor_device_type(t.get()), DD_DEVICE_CPU);
    EXPECT_EQ(dd_tensor_device_index(t.get()), 0);
    EXPECT_NE(dd_tensor_data(t.get()), nullptr);
}

TEST(Tensor, DtypeSizesAndNames) {
    EXPECT_EQ(dd_dtype_size(DD_F32), 4);
    EXPECT_EQ(dd_dtype_size(DD_BF16), 2);
    EXPECT_EQ(dd_dtype_size(DD_F16), 2);
    EXPECT_EQ(dd_dtype_size(DD_I32), 4);
    EXPECT_EQ(dd_dtype_size(DD_I64), 8);
    EXPECT_EQ(dd_dtype_size(42), 0);
    EXPECT_STREQ(dd_dtype_name(DD_BF16), "bf16");
    EXPECT_STREQ(dd_dtype_name(DD_I64), "i64");
}

TEST(Tensor, AccessorsOnNullHandle) {
    EXPECT_EQ(dd_tensor_ndim(nullptr), -1);
    EXPECT_EQ(dd_tensor_dim(nullptr, 0), -1);
    EXPECT_EQ(dd_tensor_numel(nullptr), 0);
    EXPECT_EQ(dd_tensor_data(nullptr), nullptr);
    EXPECT_EQ(dd_tensor_is_contiguous(nullptr), 0);
    dd_tensor_free(nullptr);  // a no-op
}

TEST(Tensor, ScalarAndEmptyTensors) {
    Tensor scalar = new_cpu(DD_F32, {});
    EXPECT_EQ(dd_tensor_ndim(scalar.get()), 0);
    EXPECT_EQ(dd_tensor_numel(scalar.get()), 1);
    const float pi = 3.25f;
    ASSERT_EQ(dd_tensor_write(scalar.get(), &pi, 4, 0), DD_OK) << dd_last_error();
    EXPECT_EQ(download(scalar.get()), std::vector<float>{pi});

    Tensor empty = new_cpu(DD_F32, {0, 5});
    EXPECT_EQ(dd_tensor_numel(empty.get()), 0);
    EXPECT_EQ(dd_tensor_read(empty.get(), nullptr, 0, 0), DD_OK) << dd_last_error();
}

TEST(Tensor, NewRejectsBadArguments) {
    const int64_t ok[] = {2, 3}, negative[] = {2, -1}, seven[] = {1, 1, 1, 1, 1, 1, 1};
    const int64_t huge[] = {INT64_MAX / 2, 4};
    dd_tensor* t = reinterpret_cast<dd_tensor*>(0x1);  // must be reset to NULL on failure
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 7, seven, &t), DD_ERR_SHAPE, {"rank 7"}));
    EXPECT_EQ(t, nullptr);
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 2, negative, &t), DD_ERR_SHAPE, {"negative", "-1"}));
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, 42, 2, ok, &t), DD_ERR_DTYPE, {"dtype 42"}));
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 2, ok, nullptr), DD_ERR_INVALID_ARGUMENT, {"out"}));
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 2, nullptr, &t), DD_ERR_INVALID_ARGUMENT, {"shape"}));
    EXPECT_TRUE(FailsWith(dd_tensor_new(9, 0, DD_F32, 2, ok, &t), DD_ERR_INVALID_ARGUMENT, {"device type 9"}));
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 2, huge, &t), DD_ERR_SHAPE, {"overflow"}));
    // cuda-emu (the plugin beside libdyndit) has one device
    EXPECT_TRUE(FailsWith(dd_tensor_new(DD_DEVICE_CUDA_EMU, 1, DD_F32, 2, ok, &t), DD_ERR_CUDA_UNAVAILABLE, {"device 1 does not exist"}));
    EXPECT_EQ(t, nullptr);
}

TEST(Tensor, WriteAndReadByteRanges) {
    Tensor t = new_cpu(DD_I32, {6});
    const std::vector<int32_t> all = {1, 2, 3, 4, 5, 6}, mid = {-7, -8};
    ASSERT_EQ(dd_tensor_write(t.get(), all.data(), 24, 0), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_tensor_write(t.get(), mid.data(), 8, 8), DD_OK) << dd_last_error();
    EXPECT_EQ(download<int32_t>(t.get()), (std::vector<int32_t>{1, 2, -7, -8, 5, 6}));
    int32_t last = 0;
    ASSERT_EQ(dd_tensor_read(t.get(), &last, 4, 20), DD_OK) << dd_last_error();
    EXPECT_EQ(last, 6);

    EXPECT_TRUE(FailsWith(dd_tensor_write(t.get(), all.data(), 24, 4), DD_ERR_INVALID_ARGUMENT,
                          {"[4, 28)", "24 bytes"}));
    EXPECT_TRUE(FailsWith(dd_tensor_read(t.get(), &last, 4, -4), DD_ERR_INVALID_ARGUMENT, {"outside"}));
    EXPECT_TRUE(FailsWith(dd_tensor_read(t.get(), &last, -1, 0), DD_ERR_INVALID_ARGUMENT, {"outside"}));
    EXPECT_TRUE(FailsWith(dd_tensor_read(nullptr, &last, 4, 0), DD_ERR_INVALID_ARGUMENT, {"NULL"}));
    EXPECT_TRUE(FailsWith(dd_tensor_write(t.get(), nullptr, 4, 0), DD_ERR_INVALID_ARGUMENT, {"NULL"}));
}

TEST(Tensor, TransfersRejectNonContiguousViews) {
    Tensor base = new_cpu(DD_F32, {4, 6});
    Tensor cols = view(base, {4, 2}, {6, 1}, 3);
    float buf[8];
    EXPECT_TRUE(FailsWith(dd_tensor_read(cols.get(), buf, sizeof buf, 0), DD_ERR_INVALID_ARGUMENT,
                          {"non-contiguous", "[4,2]"}));
    EXPECT_TRUE(FailsWith(dd_tensor_write(cols.get(), buf, sizeof buf, 0), DD_ERR_INVALID_ARGUMENT,
                          {"non-contiguous"}));
}

TEST(Tensor, ZeroClearsContiguousTensorsOnly) {
    Tensor base = upload_f32(all_backends()[0], std::vector<float>(12, 2.5f), {3, 4});
    Tensor middle_row = view(base, {4}, {1}, 4), column = view(base, {3}, {4}, 1);
    ASSERT_EQ(dd_tensor_zero(middle_row.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download(base.get()), (std::vector<float>{2.5f, 2.5f, 2.5f, 2.5f, 0, 0, 0, 0, 2.5f, 2.5f, 2.5f, 2.5f}));
    EXPECT_TRUE(FailsWith(dd_tensor_zero(column.get()), DD_ERR_INVALID_ARGUMENT, {"non-contiguous"}));
    EXPECT_TRUE(FailsWith(dd_tensor_zero(nullptr), DD_ERR_INVALID_ARGUMENT, {"NULL"}));
    ASSERT_EQ(dd_tensor_zero(base.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download(base.get()), std::vector<float>(12, 0.f));
}

// Offsets are in elements from the base's first element; a view of a view adds up.
TEST(Tensor, ViewsAddressBaseStorage) {
    std::vector<float> v(24);
    for (int i = 0; i < 24; ++i) v[i] = (float)i;
    Tensor base = upload_f32(all_backends()[0], v, {4, 6});
    Tensor cols = view(base, {4, 2}, {6, 1}, 3);
    EXPECT_EQ(dd_tensor_offset(cols.get()), 3);
    EXPECT_EQ(dd_tensor_is_contiguous(cols.get()), 0);
    EXPECT_EQ(dd_tensor_data(cols.get()), static_cast<float*>(dd_tensor_data(base.get())) + 3);

    Tensor second_col = view(cols, {4}, {6}, 1);  // elements 4, 10, 16, 22
    EXPECT_EQ(dd_tensor_offset(second_col.get()), 4);
    Tensor dense = new_cpu(DD_F32, {4});
    ASSERT_EQ(dd_copy(second_col.get(), dense.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download(dense.get()), (std::vector<float>{4, 10, 16, 22}));

    Tensor broadcast = view(base, {3, 2}, {0, 1}, 22), rows = new_cpu(DD_F32, {3, 2});  // stride 0 repeats a row
    ASSERT_EQ(dd_copy(broadcast.get(), rows.get()), DD_OK) << dd_last_error();
    EXPECT_EQ(download(rows.get()), (std::vector<float>{22, 23, 22, 23, 22, 23}));
}

TEST(Tensor, ViewBoundsAreChecked) {
    Tensor base = new_cpu(DD_F32, {4, 6});
    const int64_t full[] = {4, 6}, dense[] = {6, 1}, back[] = {-1}, len24[] = {24};
    dd_tensor* t = nullptr;
    ASSERT_EQ(dd_tensor_view(base.get(), 2, full, dense, 0, &t), DD_OK) << dd_last_error();  // last element = 23
    dd_tensor_free(t);
    EXPECT_TRUE(FailsWith(dd_tensor_view(base.get(), 2, full, dense, 1, &t), DD_ERR_SHAPE,
                          {"[4,6]", "[1, 24]", "storage of 24 elements"}));
    EXPECT_EQ(t, nullptr);
    EXPECT_TRUE(FailsWith(dd_tensor_view(base.get(), 1, len24, dense + 1, -1, &t), DD_ERR_SHAPE, {"[-1, 22]"}));
    EXPECT_TRUE(FailsWith(dd_tensor_view(base.get(), 1, len24, back, 0, &t), DD_ERR_SHAPE, {"[-23, 0]"}));
    EXPECT_TRUE(FailsWith(dd_tensor_view(nullptr, 2, full, dense, 0, &t), DD_ERR_INVALID_ARGUMENT, {"NULL"}));
    EXPECT_TRUE(FailsWith(dd_tensor_view(base.get(), 2, full, nullptr, 0, &t), DD_ERR_INVALID_ARGUMENT, {"strides"}));

    // A view of a sub-view may reach the rest of the storage, but not past it.
    Tensor tail = view(base, {6}, {1}, 18);
    EXPECT_TRUE(FailsWith(dd_tensor_view(tail.get(), 1, len24 /*24*/, dense + 1, 0, &t), DD_ERR_SHAPE, {"[18, 41]"}));
}

// The extent check multiplies shape by stride: with (2^62 + 1) elements at stride 4 the span is 2^64,
// which must not wrap around to look like a one-element view.
TEST(Tensor, ViewExtentOverflowIsRejected) {
    Tensor base = new_cpu(DD_F32, {4});
    const int64_t shape[] = {(INT64_C(1) << 62) + 1}, strides[] = {4};
    dd_tensor* t = nullptr;
    const dd_status s = dd_tensor_view(base.get(), 1, shape, strides, 0, &t);
    EXPECT_NE(s, DD_OK) << "a view addressing element 2^64 of a 4-element storage was accepted";
    dd_tensor_free(t);
}

TEST(Tensor, ViewKeepsStorageAliveAfterBaseIsFreed) {
    Tensor base = upload_f32(all_backends()[0], std::vector<float>{1, 2, 3, 4, 5, 6}, {2, 3});
    Tensor row1 = view(base, {3}, {1}, 3);
    base.reset();
    EXPECT_EQ(download(row1.get()), (std::vector<float>{4, 5, 6}));
    const float seven = 7.f;
    ASSERT_EQ(dd_tensor_write(row1.get(), &seven, 4, 8), DD_OK) << dd_last_error();
    EXPECT_EQ(download(row1.get()), (std::vector<float>{4, 5, 7}));
}

long resident_kib() {
    long pages = 0, resident = 0;
    FILE* f = std::fopen("/proc/self/statm", "r");
    if (!f) return -1;
    const int got = std::fscanf(f, "%ld %ld", &pages, &resident);
    std::fclose(f);
    return got == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

// 2000 cycles of a written 256 KiB tensor plus a view: leaking either would grow the resident set by
// about 500 MiB; 64 MiB of slack covers allocator caching.
TEST(Tensor, ManyCreateFreeCyclesDoNotLeak) {
    const int64_t n = 64 * 1024;
    const std::vector<float> data(n, 1.5f);
    const long before = resident_kib();
    for (int i = 0; i < 2000; ++i) {
        Tensor t = upload_f32(all_backends()[0], data, {n});
        Tensor half = view(t, {n / 2}, {2}, 1);
        if (i % 2) t.reset();  // half the time the view is the last owner
        ASSERT_EQ(dd_tensor_numel(half.get()), n / 2);
    }
    const long after = resident_kib();
    if (before < 0 || after < 0) GTEST_SKIP() << "no /proc/self/statm";
    EXPECT_LT(after - before, 64 * 1024) << "resident set grew from " << before << " KiB to " << after << " KiB";
}

}  // namespace
