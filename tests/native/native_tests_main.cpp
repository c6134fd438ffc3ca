// main() of dyndit_native_tests. On a machine without a usable CUDA device the real-GPU cases (the cuda0
// parameterisations and the two-device error test) would all skip: they are left out of the default run and of
// ctest's per-test entries, since dyndit_native_tests_cuda_emu runs the same cases (same host code and kernels) on
// the emulated device. They stay one ctest entry, "cuda_device", which runs them on CUDA device 0 and reports
// skipped (exit 77) when there is none. An explicit --gtest_filter is kept as given.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "dyndit/dyndit.h"

namespace {
constexpr const char* kDeviceCases = "*/cuda0*:DeviceErrors.*";
}

int main(int argc, char** argv) {
    testing::InitGoogleTest(&argc, argv);
    const bool gpu = dd_cuda_probe(0) == DD_OK;
    if (!gpu) dd_clear_error();
    const bool device_only = std::getenv("DYNDIT_TEST_DEVICE_CASES") != nullptr;
    if (device_only) {
        if (!gpu) {
            std::printf("SKIPPED: no usable CUDA device 0 here: the real-GPU cases need one (cuda_emu:* ran them "
                        "on the emulated device)\n");
            return 77;
        }
        testing::GTEST_FLAG(filter) = kDeviceCases;
    } else if (!gpu && testing::GTEST_FLAG(filter) == "*") {
        testing::GTEST_FLAG(filter) = std::string("-") + kDeviceCases;
    }
    return RUN_ALL_TESTS();
}
