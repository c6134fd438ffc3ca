// Up-front validation of an op's tensors, with messages that name the op, the tensor and
// expected vs actual (flash-attention style: check everything before touching memory).
#pragma once
#include <initializer_list>
#include <string>

#include "backend.h"
#include "error.h"
#include "tensor.h"

namespace dd {

// Product of all dims but the last (the rows of a [..., D] tensor).
inline int64_t rows_of(const dd_tensor& t) {
    int64_t m = 1;
    for (int i = 0; i < t.ndim - 1; ++i) m *= t.shape[i];
    return m;
}
// A tensor's float data (null for a null tensor).
inline const float* f32(const dd_tensor* t) { return t ? static_cast<const float*>(t->data()) : nullptr; }
inline float* f32w(const dd_tensor* t) { return t ? static_cast<float*>(t->data()) : nullptr; }

class OpCheck {
public:
    explicit OpCheck(const char* op) : op_(op) {}

    static constexpr int kF32OrBf16 = -2;  // a dtype argument: f32 or bf16 (activations)
    // Non-null, dtype, rank; all tensors of one op on one device.
    const dd_tensor& tensor(const dd_tensor* t, const char* name, int dtype, int rank);
    // Optional tensor: returns nullptr when t is null, otherwise checks like tensor().
    const dd_tensor* optional(const dd_tensor* t, const char* name, int dtype, int rank);
    // Every dim equal to `dims` (-1 = any); `layout` names the dims, e.g. "[N,T,D]".
    void shape(const dd_tensor& t, const char* name, std::initializer_list<int64_t> dims, const char* layout);
    void last_dim_contiguous(const dd_tensor& t, const char* name);
    void contiguous(const dd_tensor& t, const char* name);
    // Leading dims (all but the last) collapse to rows at one uniform stride; returns that stride.
    int64_t uniform_row_stride(const dd_tensor& t, const char* name);
    // Indices in [0, bound) (CPU index tensors only; device indices are checked by the kernels' callers).
    void indices_in_range(const dd_tensor& t, const char* name, int64_t bound, const char* bound_name);
    // Output must not share memory with an input (for ops that do not allow in-place use).
    void no_overlap(const dd_tensor& out, const char* out_name, const dd_tensor* in, const char* in_name);
    [[noreturn]] void error(dd_status s, const std::string& msg) const;

    const Backend& backend() const;  // for the device the checked tensors live on
    int device_type() const { return device_type_; }
    int device_index() const { return device_index_; }

private:
    const char* op_;
    int device_type_ = -1;
    int device_index_ = -1;
    const char* first_name_ = nullptr;
};

// Runs an op's implementation (fn from the device's table, null when that table lacks the op) after making the
// tensors' device current for the calling thread (CUDA: cudaSetDevice and that device's stream).
template <class P>
dd_status run(const OpCheck& c, dd_status (*fn)(const P&), const P& p) {
    const Backend& b = c.backend();
    if (!fn) c.error(DD_ERR_UNSUPPORTED, format("not implemented on the %s backend", b.name));
    if (b.use_device)
        if (dd_status s = b.use_device(c.device_index())) return s;
    return fn(p);
}

}  // namespace dd
