// Its own process (the plugin loads once per process): a cuda-emu library that cannot be loaded is an error naming
// the file and the loader's reason, the library stays usable, and the default one (beside libdyndit) loads after.
#include <gtest/gtest.h>

#include <string>

#include "dyndit/dyndit.h"

TEST(CudaEmuLoad, MissingPluginIsNamedThenTheDefaultLoads) {
    ASSERT_EQ(dd_cuda_emu_load("/nonexistent/libdyndit_cuda_emu.so"), DD_ERR_CUDA_UNAVAILABLE);
    const std::string msg = dd_last_error();
    EXPECT_NE(msg.find("/nonexistent/libdyndit_cuda_emu.so"), std::string::npos) << msg;
    EXPECT_NE(msg.find("cuda-emu"), std::string::npos) << msg;
    const int64_t shape[1] = {4};
    dd_tensor* t = nullptr;
    ASSERT_EQ(dd_tensor_new(DD_DEVICE_CPU, 0, DD_F32, 1, shape, &t), DD_OK);  // still usable
    dd_tensor_free(t);
    ASSERT_EQ(dd_cuda_emu_load(nullptr), DD_OK) << dd_last_error();
    ASSERT_EQ(dd_tensor_new(DD_DEVICE_CUDA_EMU, 0, DD_F32, 1, shape, &t), DD_OK) << dd_last_error();
    dd_tensor_free(t);
}
