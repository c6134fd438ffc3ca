// main() of dyndit_native_tests_cuda_emu: the op suite's GPU-only paths (the cuda0, cuda0_tf32 and cuda0_bf16
// parameterisations, the two-device error test) on the cuda-emu device, the CUDA backend's host code and
// kernels on the SIMT emulator, so they run on machines without a GPU. The filter is only a default: ctest's
// per-test entries ("cuda_emu:...") pass their own --gtest_filter.
#include <gtest/gtest.h>

#include <cstdlib>

int main(int argc, char** argv) {
    setenv("DYNDIT_TEST_CUDA", "emu", 1);  // read by the fixture when each test starts (test_support.h)
    // BackendParity has its own cuda_emu instances; its cuda0 ones would repeat them.
    testing::GTEST_FLAG(filter) = "*/cuda0*:DeviceErrors.*-Devices/BackendParity.*";
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
