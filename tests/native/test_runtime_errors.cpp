// Library-level behaviour of errors and information calls: status names, the per-thread last error,
// and how CUDA reports being unavailable on a machine without a usable GPU.
#include <string>
#include <thread>

#include "test_support.h"

namespace {

using namespace ddtest;

TEST(RuntimeErrors, StatusNames) {
    EXPECT_STREQ(dd_status_name(DD_OK), "OK");
    EXPECT_STREQ(dd_status_name(DD_ERR_SHAPE), "SHAPE");
    EXPECT_STREQ(dd_status_name(DD_ERR_CUDA_UNAVAILABLE), "CUDA_UNAVAILABLE");
    EXPECT_STREQ(dd_status_name(DD_ERR_INTERNAL), "INTERNAL");
    EXPECT_STREQ(dd_status_name(-1), "UNKNOWN_STATUS");
    EXPECT_STREQ(dd_status_name(42), "UNKNOWN_STATUS");
}

TEST(RuntimeErrors, ClearErrorEmptiesTheMessage) {
    ASSERT_EQ(dd_linear(nullptr, nullptr, nullptr, nullptr), DD_ERR_INVALID_ARGUMENT);
    EXPECT_STRNE(dd_last_error(), "");
    dd_clear_error();
    EXPECT_STREQ(dd_last_error(), "");
}

// A failure on one thread is invisible to another, in both directions.
TEST(RuntimeErrors, LastErrorIsPerThread) {
    dd_clear_error();
    std::string seen_on_worker, worker_start;
    std::thread worker([&] {
        worker_start = dd_last_error();
        dd_gelu_tanh(nullptr, nullptr);
        seen_on_worker = dd_last_error();
    });
    worker.join();
    EXPECT_NE(seen_on_worker.find("'x'"), std::string::npos) << seen_on_worker;
    EXPECT_STREQ(dd_last_error(), "") << "the worker's error leaked to the main thread";

    ASSERT_EQ(dd_silu(nullptr, nullptr), DD_ERR_INVALID_ARGUMENT);
    std::string on_second_worker = "unset";
    std::thread([&] { on_second_worker = dd_last_error(); }).join();
    EXPECT_EQ(on_second_worker, "") << "the main thread's error leaked to a new thread";
    EXPECT_NE(std::string(dd_last_error()).find("dd_silu"), std::string::npos);
    EXPECT_EQ(worker_start, "");
}

TEST(RuntimeErrors, CudaProbeSaysWhy) {
    if (dd_cuda_probe(0) == DD_OK) GTEST_SKIP() << "CUDA device 0 is usable on this machine";
    dd_clear_error();
    ASSERT_EQ(dd_cuda_probe(0), DD_ERR_CUDA_UNAVAILABLE);
    const std::string why = dd_last_error();
    if (dd_cuda_compiled())  // CUDA's own words: the error string and its name (cudaError...)
        EXPECT_NE(why.find("cudaError"), std::string::npos) << why;
    else
        EXPECT_NE(why.find("without CUDA"), std::string::npos) << why;
    EXPECT_EQ(dd_cuda_probe(-1), DD_ERR_CUDA_UNAVAILABLE);
}

TEST(RuntimeErrors, CudaTensorFailsWhenCudaIsUnavailable) {
    if (dd_cuda_probe(0) == DD_OK) GTEST_SKIP() << "CUDA device 0 is usable on this machine";
    const std::string why = dd_last_error();
    const int64_t shape[] = {4};
    dd_tensor* t = reinterpret_cast<dd_tensor*>(0x1);
    EXPECT_EQ(dd_tensor_new(DD_DEVICE_CUDA, 0, DD_F32, 1, shape, &t), DD_ERR_CUDA_UNAVAILABLE);
    EXPECT_EQ(t, nullptr);
    EXPECT_EQ(std::string(dd_last_error()), why) << "the allocation should carry the probe's reason";
}

TEST(LibraryInfo, DescribesTheBuild) {
    EXPECT_STRNE(dd_version(), "");
    EXPECT_STRNE(dd_cpu_name(), "");
    EXPECT_NE(std::string(dd_blas_info()).find("oneDNN 3."), std::string::npos) << dd_blas_info();
    if (!dd_cuda_compiled()) {
        EXPECT_STREQ(dd_cuda_archs(), "");
    }
}

TEST(LibraryInfo, SetNumThreads) {
    const int before = dd_num_threads();
    dd_set_num_threads(1);
    EXPECT_EQ(dd_num_threads(), 1);
    dd_set_num_threads(0);  // all cores
    EXPECT_GE(dd_num_threads(), 1);
    dd_set_num_threads(before);
    EXPECT_EQ(dd_num_threads(), before);
}

}  // namespace
