// Error paths of the device-level C API added for the CUDA backend: precision, graphs, sampler steps. Each bad call
// returns a status and a message naming what was wrong, and the library keeps working.
#include "test_support.h"

namespace {

using namespace ddtest;

TEST(DeviceApiErrors, PrecisionValuesAndDevicesAreChecked) {
    EXPECT_TRUE(FailsWith(dd_set_gemm_precision(DD_DEVICE_CUDA_EMU, 7), DD_ERR_INVALID_ARGUMENT, {"precision 7"}));
    EXPECT_TRUE(FailsWith(dd_set_gemm_precision(9, DD_PRECISION_FP32), DD_ERR_INVALID_ARGUMENT, {"device type 9"}));
    EXPECT_EQ(dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16), DD_OK);  // the CPU is always fp32
    EXPECT_EQ(dd_set_gemm_precision(DD_DEVICE_CUDA_EMU, DD_PRECISION_TF32), DD_OK) << dd_last_error();
}

TEST(DeviceApiErrors, GraphsAreACudaFeature) {
    EXPECT_TRUE(FailsWith(dd_graph_begin(DD_DEVICE_CPU, 0), DD_ERR_UNSUPPORTED, {"CUDA feature", "cpu"}));
    dd_graph* g = reinterpret_cast<dd_graph*>(1);
    EXPECT_TRUE(FailsWith(dd_graph_end(DD_DEVICE_CPU, &g), DD_ERR_UNSUPPORTED, {"CUDA feature"}));
    EXPECT_EQ(g, nullptr);
    EXPECT_TRUE(FailsWith(dd_graph_launch(nullptr), DD_ERR_INVALID_ARGUMENT, {"NULL"}));
    EXPECT_TRUE(FailsWith(dd_graph_end(DD_DEVICE_CUDA_EMU, nullptr), DD_ERR_INVALID_ARGUMENT, {"out"}));
    // ending a capture that never began is CUDA's error, named; then a real capture works
    EXPECT_TRUE(FailsWith(dd_graph_end(DD_DEVICE_CUDA_EMU, &g), DD_ERR_CUDA, {"graph capture (end)"}));
    ASSERT_EQ(dd_graph_begin(DD_DEVICE_CUDA_EMU, 0), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_graph_end(DD_DEVICE_CUDA_EMU, &g), DD_OK) << dd_last_error();
    EXPECT_EQ(dd_graph_launch(g), DD_OK) << dd_last_error();  // an empty graph replays nothing
    dd_graph_free(g);
}

TEST(DeviceApiErrors, SamplerStepsCheckShapesAndArguments) {
    const float coefs[7] = {1, 1, 1, 1, 0, 0, 0};
    Tensor x = new_cpu(DD_F32, {2, 4, 3, 3}), out8 = new_cpu(DD_F32, {2, 8, 3, 3}), out4 = new_cpu(DD_F32, {2, 4, 3, 3});
    Tensor next = new_cpu(DD_F32, {2, 4, 3, 3}), small = new_cpu(DD_F32, {2, 4, 3, 2});
    EXPECT_TRUE(FailsWith(dd_ddpm_update(x.get(), out4.get(), nullptr, nullptr, next.get(), coefs, 1), DD_ERR_SHAPE,
                          {"model_out", "at least 8"}));
    EXPECT_TRUE(FailsWith(dd_ddpm_update(x.get(), out8.get(), small.get(), nullptr, next.get(), coefs, 1), DD_ERR_SHAPE,
                          {"noise"}));
    EXPECT_TRUE(FailsWith(dd_ddim_update(x.get(), out8.get(), nullptr, nullptr, next.get(), nullptr),
                          DD_ERR_INVALID_ARGUMENT, {"coefs"}));
    EXPECT_TRUE(FailsWith(dd_ddim_update(x.get(), out8.get(), nullptr, nullptr, x.get(), coefs),
                          DD_ERR_INVALID_ARGUMENT, {"next", "overlaps"}));
    Tensor x0 = new_cpu(DD_F32, {2, 4, 3, 3});
    const float dpm[10] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    EXPECT_TRUE(FailsWith(dd_dpm_update(x.get(), out8.get(), nullptr, nullptr, x0.get(), next.get(), dpm, 4),
                          DD_ERR_INVALID_ARGUMENT, {"order 4"}));
    EXPECT_TRUE(FailsWith(dd_dpm_update(x.get(), out8.get(), nullptr, nullptr, nullptr, next.get(), dpm, 1),
                          DD_ERR_INVALID_ARGUMENT, {"x0"}));
    EXPECT_TRUE(FailsWith(dd_dpm_update(x.get(), out8.get(), small.get(), nullptr, x0.get(), next.get(), dpm, 2),
                          DD_ERR_SHAPE, {"m1"}));
    EXPECT_TRUE(FailsWith(dd_dpm_update(x.get(), out8.get(), x0.get(), nullptr, x0.get(), next.get(), dpm, 2),
                          DD_ERR_INVALID_ARGUMENT, {"overlaps"}));
    EXPECT_TRUE(FailsWith(dd_weak_guidance(out8.get(), out4.get(), 3, 0.5f), DD_ERR_SHAPE, {"guide"}));
    EXPECT_TRUE(FailsWith(dd_weak_guidance(out8.get(), out8.get(), 3, 0.5f), DD_ERR_INVALID_ARGUMENT, {"overlaps"}));
    EXPECT_TRUE(FailsWith(dd_cfg_combine(out8.get(), 9, 4.0f), DD_ERR_INVALID_ARGUMENT, {"guided = 9"}));
    EXPECT_EQ(dd_ddpm_update(x.get(), out8.get(), nullptr, nullptr, next.get(), coefs, 1), DD_OK) << dd_last_error();
}

}  // namespace
