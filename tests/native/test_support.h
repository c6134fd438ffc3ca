// Shared helpers of the native test suite: owning tensor handles, host<->tensor transfers, random
// inputs with a printed seed, and the list of backends every op test runs on.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "dyndit/dyndit.h"

namespace ddtest {

// Frees the handle when the test scope ends, also when an assertion bails out early.
struct TensorFree {
    void operator()(dd_tensor* t) const { dd_tensor_free(t); }
};
using Tensor = std::unique_ptr<dd_tensor, TensorFree>;
using Shape = std::vector<int64_t>;

// Setup steps (allocation, upload) throw on failure; GoogleTest reports the exception as a failure
// of the test, with the library's message.
inline void require_ok(dd_status s, const std::string& what) {
    if (s != DD_OK)
        throw std::runtime_error(what + " failed: " + dd_status_name(s) + ": " + dd_last_error());
}

inline int64_t numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

// An error path: the status is `want` and this thread's last error contains every fragment (the
// tensor's name, expected and actual shapes...).
inline testing::AssertionResult FailsWith(dd_status got, dd_status want, std::initializer_list<const char*> fragments) {
    const std::string msg = dd_last_error();
    if (got != want)
        return testing::AssertionFailure() << "status " << dd_status_name(got) << ", expected " << dd_status_name(want)
                                           << " (message: \"" << msg << "\")";
    for (const char* f : fragments)
        if (msg.find(f) == std::string::npos)
            return testing::AssertionFailure() << "message \"" << msg << "\" lacks \"" << f << "\"";
    return testing::AssertionSuccess();
}

// A device the ops can run on, and the GEMM arithmetic (dd_precision) the fixture sets for the test on it.
// The CUDA default is TF32, so a device test that compares against fp32 tolerances must ask for FP32; the
// CPU computes fp32 for FP32 and TF32, and bf16 products (oneDNN) for BF16.
struct Backend {
    const char* name;
    int device_type;
    int device_index;
    int precision = DD_PRECISION_FP32;
};

// Test names and failure messages show the backend's name instead of its bytes.
inline void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

// The device behind the "cuda0" parameterisations: CUDA device 0, or with DYNDIT_TEST_CUDA=emu the cuda-emu
// device (the same backend host code and kernels on the SIMT emulator), so the GPU-only paths of the suite
// run on machines without a GPU (dyndit_native_tests_cuda_emu sets it; ctest entries "cuda_emu:*"). Read
// when a test starts, not when the parameters are registered, so a main() may set it.
inline int cuda_test_device_type() {
    const char* e = std::getenv("DYNDIT_TEST_CUDA");
    return e && std::string(e) == "emu" ? DD_DEVICE_CUDA_EMU : DD_DEVICE_CUDA;
}

inline std::vector<Backend> all_backends() {
    return {{"cpu", DD_DEVICE_CPU, 0}, {"cuda0", DD_DEVICE_CUDA, 0, DD_PRECISION_FP32}};
}

// For the tests of GEMM-based ops: the CPU in fp32 and bf16, the CUDA device once per precision (fp32 under the
// name cuda0, as in all_backends, and cuda0_tf32 / cuda0_bf16); each test takes its tolerance from
// gemm_precision(backend()).
inline std::vector<Backend> gemm_backends() {
    return {{"cpu", DD_DEVICE_CPU, 0},
            {"cpu_bf16", DD_DEVICE_CPU, 0, DD_PRECISION_BF16},
            {"cuda0", DD_DEVICE_CUDA, 0, DD_PRECISION_FP32},
            {"cuda0_tf32", DD_DEVICE_CUDA, 0, DD_PRECISION_TF32},
            {"cuda0_bf16", DD_DEVICE_CUDA, 0, DD_PRECISION_BF16}};
}

// The arithmetic the backend's matrix products run in: the CPU has no TF32 (fp32 then).
inline int gemm_precision(const Backend& b) {
    return b.device_type == DD_DEVICE_CPU && b.precision == DD_PRECISION_TF32 ? DD_PRECISION_FP32 : b.precision;
}

inline const char* precision_name(int precision) {
    return precision == DD_PRECISION_TF32 ? "tf32" : precision == DD_PRECISION_BF16 ? "bf16" : "fp32";
}

// Why `b` cannot run on this machine, or "" when it can.
inline std::string unavailable_reason(const Backend& b) {
    if (b.device_type == DD_DEVICE_CPU && b.precision == DD_PRECISION_BF16) {
        if (dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_BF16) == DD_OK) {
            dd_set_gemm_precision(DD_DEVICE_CPU, DD_PRECISION_FP32);
            return "";
        }
        std::string why = dd_last_error();
        dd_clear_error();
        return why;
    }
    if (b.device_type == DD_DEVICE_CPU) return "";
    const dd_status s = b.device_type == DD_DEVICE_CUDA_EMU ? dd_cuda_emu_load(nullptr) : dd_cuda_probe(b.device_index);
    if (s == DD_OK) return "";
    std::string why = dd_last_error();
    dd_clear_error();
    return why;
}

inline Tensor new_tensor(const Backend& b, int dtype, const Shape& shape) {
    dd_tensor* t = nullptr;
    require_ok(dd_tensor_new(b.device_type, b.device_index, dtype, (int)shape.size(), shape.data(), &t),
               "dd_tensor_new");
    return Tensor(t);
}

inline Tensor new_cpu(int dtype, const Shape& shape) { return new_tensor(all_backends()[0], dtype, shape); }

// A tensor of `dtype` holding `values` (element type T must match the dtype's width).
template <class T>
Tensor upload(const Backend& b, int dtype, const std::vector<T>& values, const Shape& shape) {
    if ((int64_t)values.size() != numel(shape) || dd_dtype_size(dtype) != (int)sizeof(T))
        throw std::invalid_argument("upload: values do not fit shape/dtype");
    Tensor t = new_tensor(b, dtype, shape);
    require_ok(dd_tensor_write(t.get(), values.data(), (int64_t)(values.size() * sizeof(T)), 0), "dd_tensor_write");
    return t;
}

inline Tensor upload_f32(const Backend& b, const std::vector<float>& v, const Shape& shape) {
    return upload(b, DD_F32, v, shape);
}
inline Tensor upload_i32(const Backend& b, const std::vector<int32_t>& v, const Shape& shape) {
    return upload(b, DD_I32, v, shape);
}

// Whole contents of a contiguous tensor.
template <class T = float>
std::vector<T> download(const dd_tensor* t) {
    std::vector<T> out((size_t)dd_tensor_numel(t));
    require_ok(dd_tensor_read(t, out.data(), (int64_t)(out.size() * sizeof(T)), 0), "dd_tensor_read");
    return out;
}


// bf16 <-> f32 on the host: bf16 is the high half of an f32, rounded to nearest even (as the library rounds).
inline uint16_t bf16_bits(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0;  // NaN stays a (quiet) NaN
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}
inline float bf16_float(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}

// A new tensor of `dtype` (f32 or bf16; same device and shape) holding the contiguous tensor src's values converted
// on the host (dd_copy converts CPU tensors only).
inline Tensor converted(const Backend& b, const Tensor& src, int dtype) {
    Shape shape;
    for (int i = 0; i < dd_tensor_ndim(src.get()); ++i) shape.push_back(dd_tensor_dim(src.get(), i));
    std::vector<float> f;
    if (dd_tensor_dtype(src.get()) == DD_BF16)
        for (uint16_t v : download<uint16_t>(src.get())) f.push_back(bf16_float(v));
    else
        f = download<float>(src.get());
    if (dtype == DD_F32) return upload_f32(b, f, shape);
    std::vector<uint16_t> bits;
    for (float v : f) bits.push_back(bf16_bits(v));
    return upload(b, DD_BF16, bits, shape);
}

inline Tensor view(const Tensor& base, const Shape& shape, const Shape& strides, int64_t offset) {
    dd_tensor* t = nullptr;
    require_ok(dd_tensor_view(base.get(), (int)shape.size(), shape.data(), strides.data(), offset, &t),
               "dd_tensor_view");
    return Tensor(t);
}

// Columns [col0, col0 + cols) of every row of a dense [rows, width] host array: what a row-strided
// view of it addresses, as a dense array for the reference.
inline std::vector<float> column_slice(const std::vector<float>& a, int64_t rows, int64_t width, int64_t col0,
                                       int64_t cols) {
    std::vector<float> out((size_t)(rows * cols));
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = a[r * width + col0 + c];
    return out;
}

// Fresh random values per run; DYNDIT_TEST_SEED=<n> replays a run.
class Random {
public:
    Random() : seed_(pick_seed()), gen_(seed_) {}
    uint32_t seed() const { return seed_; }

    // Uniform in [lo, hi) with exact zeros redrawn, so no input is degenerate.
    std::vector<float> uniform(size_t n, float lo, float hi) {
        std::uniform_real_distribution<float> dist(lo, hi);
        std::vector<float> v(n);
        for (float& x : v)
            do x = dist(gen_);
            while (x == 0.f);
        return v;
    }
    std::vector<int32_t> indices(size_t n, int32_t bound) {
        std::uniform_int_distribution<int32_t> dist(0, bound - 1);
        std::vector<int32_t> v(n);
        for (int32_t& i : v) i = dist(gen_);
        return v;
    }

private:
    static uint32_t pick_seed() {
        if (const char* s = std::getenv("DYNDIT_TEST_SEED")) return (uint32_t)std::strtoul(s, nullptr, 10);
        return std::random_device{}();
    }
    uint32_t seed_;
    std::mt19937 gen_;
};

// Fixture of the op tests: one instance per backend (skipped where the backend is not usable), the
// backend's GEMM precision set for this thread (never inherited from an earlier test), and a fresh seed
// that every failure message of the test carries.
class OpTest : public testing::TestWithParam<Backend> {
protected:
    void SetUp() override {
        backend_ = GetParam();
        if (backend_.device_type == DD_DEVICE_CUDA) backend_.device_type = cuda_test_device_type();
        const Backend& b = backend_;
        std::string why = unavailable_reason(b);
        if (!why.empty()) GTEST_SKIP() << b.name << " is not usable here: " << why;
        ASSERT_EQ(dd_set_gemm_precision(b.device_type, b.precision), DD_OK) << dd_last_error();
        precision_set_ = true;
        const std::string device = b.device_type == DD_DEVICE_CUDA_EMU ? " (emulated: cuda-emu)" : "";
        trace_.emplace(__FILE__, __LINE__,
                       std::string("backend=") + b.name + device + " precision=" + precision_name(b.precision) +
                           " seed=" + std::to_string(rng.seed()) + " (replay with DYNDIT_TEST_SEED=" +
                           std::to_string(rng.seed()) + ")");
    }
    void TearDown() override {
        trace_.reset();
        // Back to the library default (TF32) for whatever runs next on this thread outside the fixture.
        if (precision_set_) {
            EXPECT_EQ(dd_set_gemm_precision(backend_.device_type, DD_PRECISION_TF32), DD_OK) << dd_last_error();
        }
    }
    // The parameter with its device resolved (cuda0 may be cuda-emu).
    const Backend& backend() const { return backend_; }

    Random rng;

private:
    Backend backend_{"", DD_DEVICE_CPU, 0};
    bool precision_set_ = false;
    std::optional<testing::ScopedTrace> trace_;
};

}  // namespace ddtest

// Instantiates the TEST_Ps of `Suite` once per backend, named after it (…/cpu, …/cuda0).
#define DD_INSTANTIATE_ON_ALL_BACKENDS(Suite)                                                       \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite, testing::ValuesIn(ddtest::all_backends()),           \
                             [](const testing::TestParamInfo<ddtest::Backend>& i) { return std::string(i.param.name); })

// The same with the CUDA device once per GEMM precision (…/cpu, …/cuda0, …/cuda0_tf32, …/cuda0_bf16).
#define DD_INSTANTIATE_ON_GEMM_BACKENDS(Suite)                                                      \
    INSTANTIATE_TEST_SUITE_P(Backends, Suite, testing::ValuesIn(ddtest::gemm_backends()),          \
                             [](const testing::TestParamInfo<ddtest::Backend>& i) { return std::string(i.param.name); })

// Runs an op; anything but DD_OK fails the test, DD_ERR_UNSUPPORTED on a device included: every op has a
// CUDA kernel, so a kernel limit hit by a test's shapes is a failure; a test about a documented limit
// checks that refusal itself (FailsWith with the limit's words, as VaeConvTest.ConvNonSquareKernel does).
#define DD_RUN_OP(call)                                                                                  \
    do {                                                                                                 \
        const dd_status dd_run_status_ = (call);                                                         \
        ASSERT_EQ(dd_run_status_, DD_OK) << backend().name << ": " << #call << " -> "                    \
                                         << dd_status_name(dd_run_status_) << ": " << dd_last_error();   \
    } while (0)

