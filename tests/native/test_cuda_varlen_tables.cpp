// The CUDA backend's varlen attention tables (native/src/cuda/varlen_tables.h): cu_seqlens and the host-built
// query-tile table reach the device by an async copy from pinned memory, kept per layout. A layout may be captured
// into a graph once it was used eagerly, and later layouts (more than the kept uploads) must not overwrite what the
// graph reads; a layout first seen inside a capture fails with an error naming the kernel.
#include "compare.h"
#include "reference.h"
#include "test_support.h"

namespace {

using namespace ddtest;

constexpr int64_t R = 70, H = 2, Dh = 72, D = H * Dh;
const Backend kHost{"cpu", DD_DEVICE_CPU, 0};  // cu_seqlens live on the host

class CudaVarlenTables : public OpTest {
protected:
    std::vector<float> packed;
    Tensor qkv, q, k, v;
    void SetUp() override {
        OpTest::SetUp();
        if (IsSkipped() || HasFatalFailure()) return;
        packed = rng.uniform(R * 3 * D, -2, 2);
        qkv = upload_f32(backend(), packed, {R, 3, H, Dh});
        q = view(qkv, {R, H, Dh}, {3 * D, Dh, 1}, 0);
        k = view(qkv, {R, H, Dh}, {3 * D, Dh, 1}, D);
        v = view(qkv, {R, H, Dh}, {3 * D, Dh, 1}, 2 * D);
    }
    // The double reference of one packed layout, sequence by sequence.
    ddref::Expected expected(const std::vector<int32_t>& cu, float scale) const {
        ddref::Expected e;
        for (size_t b = 0; b + 1 < cu.size(); ++b) {
            const int64_t r0 = cu[b], len = cu[b + 1] - cu[b];
            const std::vector<float> seq(packed.begin() + r0 * 3 * D, packed.begin() + (r0 + len) * 3 * D);
            auto part = [&](int s) { return column_slice(seq, len, 3 * D, s * D, D); };
            const ddref::Expected s = ddref::attention(part(0), part(1), part(2), 1, len, H, Dh, scale);
            e.value.insert(e.value.end(), s.value.begin(), s.value.end());
            e.magnitude.insert(e.magnitude.end(), s.magnitude.begin(), s.magnitude.end());
        }
        return e;
    }
    // TF32 operands (u = 2^-11) with the magnitude term of test_attention.cpp's bound.
    Tolerance tolerance() const {
        const double u = tf32_unit_roundoff(), acc = (double)(R + 1) * std::ldexp(1.0, -23);
        return {1e-5, 1e-5 + 1.25 * (2 * u + u * u + acc), 0};
    }
    dd_status run(const std::vector<int32_t>& cu, Tensor& out, float scale) {
        Tensor cus = upload_i32(kHost, cu, {(int64_t)cu.size()});
        return dd_attention_varlen(q.get(), k.get(), v.get(), cus.get(), scale, out.get());
    }
};

TEST_P(CudaVarlenTables, CapturedLayoutSurvivesLaterLayouts) {
    const float scale = 1.0f / std::sqrt((float)Dh);
    const std::vector<int32_t> a{0, 3, 40, 40, 70};
    Tensor out = new_tensor(backend(), DD_F32, {R, H, Dh});
    DD_RUN_OP(run(a, out, scale));  // eager: uploads layout a
    EXPECT_TRUE(AllClose(download(out.get()), expected(a, scale), tolerance())) << "eager";
    require_ok(dd_graph_begin(backend().device_type, backend().device_index), "dd_graph_begin");
    const dd_status op = run(a, out, scale);
    dd_graph* g = nullptr;
    require_ok(dd_graph_end(backend().device_type, &g), "dd_graph_end");
    ASSERT_EQ(op, DD_OK) << dd_last_error();
    // Six other layouts: more than the uploads kept per thread, so uncaptured ones are rewritten.
    for (int i = 1; i <= 6; ++i) {
        const std::vector<int32_t> other{0, 5 * i, 70};
        Tensor o = new_tensor(backend(), DD_F32, {R, H, Dh});
        DD_RUN_OP(run(other, o, scale));
        EXPECT_TRUE(AllClose(download(o.get()), expected(other, scale), tolerance())) << "layout " << i;
    }
    require_ok(dd_tensor_zero(out.get()), "dd_tensor_zero");
    require_ok(dd_graph_launch(g), "dd_graph_launch");
    EXPECT_TRUE(AllClose(download(out.get()), expected(a, scale), tolerance())) << "replay after other layouts";
    dd_graph_free(g);
}

TEST_P(CudaVarlenTables, LayoutFirstSeenInACaptureIsRefused) {
    Tensor out = new_tensor(backend(), DD_F32, {R, H, Dh});
    require_ok(dd_graph_begin(backend().device_type, backend().device_index), "dd_graph_begin");
    const dd_status op = run({0, 1, 2, 70}, out, 0.5f);
    const std::string err = op == DD_OK ? "" : dd_last_error();
    dd_graph* g = nullptr;
    const dd_status end = dd_graph_end(backend().device_type, &g);
    if (end == DD_OK) dd_graph_free(g);
    EXPECT_EQ(op, DD_ERR_UNSUPPORTED);
    EXPECT_NE(err.find("attention_varlen"), std::string::npos) << err;
    EXPECT_NE(err.find("capture"), std::string::npos) << err;
}

INSTANTIATE_TEST_SUITE_P(Backends, CudaVarlenTables,
                         testing::Values(Backend{"cuda0_tf32", DD_DEVICE_CUDA, 0, DD_PRECISION_TF32}),
                         [](const testing::TestParamInfo<Backend>& i) { return std::string(i.param.name); });

}  // namespace
