#include "op_check.h"

namespace dd {

void OpCheck::error(dd_status s, const std::string& msg) const { throw Error(s, std::string(op_) + ": " + msg); }

const dd_tensor& OpCheck::tensor(const dd_tensor* t, const char* name, int dtype, int rank) {
    if (!t) error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' is NULL", name));
    if (dtype == kF32OrBf16) {
        if (t->dtype != DD_F32 && t->dtype != DD_BF16)
            error(DD_ERR_DTYPE, format("tensor '%s' has dtype %s, expected f32 or bf16", name, dtype_name(t->dtype)));
    } else if (t->dtype != dtype) {
        error(DD_ERR_DTYPE, format("tensor '%s' has dtype %s, expected %s", name, dtype_name(t->dtype), dtype_name(dtype)));
    }
    if (rank >= 0 && t->ndim != rank)
        error(DD_ERR_SHAPE, format("tensor '%s' has shape %s (rank %d), expected rank %d", name, t->shape_str().c_str(),
                                   t->ndim, rank));
    int dt = t->storage->device_type, di = t->storage->device_index;
    if (device_type_ < 0) {
        device_type_ = dt;
        device_index_ = di;
        first_name_ = name;
    } else if (dt != device_type_ || di != device_index_) {
        error(DD_ERR_DEVICE, format("tensor '%s' is on %s:%d but '%s' is on %s:%d", name, device_name(dt), di,
                                    first_name_, device_name(device_type_), device_index_));
    }
    return *t;
}

const dd_tensor* OpCheck::optional(const dd_tensor* t, const char* name, int dtype, int rank) {
    return t ? &tensor(t, name, dtype, rank) : nullptr;
}

void OpCheck::shape(const dd_tensor& t, const char* name, std::initializer_list<int64_t> dims, const char* layout) {
    bool ok = (int)dims.size() == t.ndim;
    int i = 0;
    std::string want = "[";
    for (int64_t d : dims) {
        if (ok && d >= 0 && t.shape[i] != d) ok = false;
        want += (i ? "," : "") + (d < 0 ? std::string("*") : std::to_string(d));
        ++i;
    }
    want += "]";
    if (!ok)
        error(DD_ERR_SHAPE, format("tensor '%s' has shape %s, expected %s %s", name, t.shape_str().c_str(),
                                   want.c_str(), layout));
}

void OpCheck::last_dim_contiguous(const dd_tensor& t, const char* name) {
    if (t.ndim > 0 && t.shape[t.ndim - 1] > 1 && t.strides[t.ndim - 1] != 1)
        error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' %s must have a contiguous last dimension (stride %lld)", name,
                                              t.shape_str().c_str(), (long long)t.strides[t.ndim - 1]));
}

void OpCheck::contiguous(const dd_tensor& t, const char* name) {
    if (!t.contiguous())
        error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' %s must be contiguous", name, t.shape_str().c_str()));
}

int64_t OpCheck::uniform_row_stride(const dd_tensor& t, const char* name) {
    last_dim_contiguous(t, name);
    const int64_t width = t.ndim ? t.shape[t.ndim - 1] : 1;
    // Dims of size 1 place no constraint; the innermost leading dim of size > 1 sets the row stride and
    // every outer one must continue it evenly.
    int64_t row = -1, expect = 0;
    for (int i = t.ndim - 2; i >= 0; --i) {
        if (t.shape[i] == 1) continue;
        if (row < 0) {
            row = t.strides[i];
        } else if (t.strides[i] != expect) {
            error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' %s: leading dimensions do not collapse into rows of one "
                                                  "stride", name, t.shape_str().c_str()));
        }
        expect = t.strides[i] * t.shape[i];
    }
    if (row < 0) return width;  // a single row
    if (row < width)
        error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s' %s: rows overlap (row stride %lld < row length %lld); "
                                              "copy it to a dense tensor first", name, t.shape_str().c_str(),
                                              (long long)row, (long long)width));
    if (row > INT32_MAX || width > INT32_MAX)
        error(DD_ERR_SHAPE, format("tensor '%s' %s: rows longer than 2^31-1 elements are not supported", name,
                                   t.shape_str().c_str()));
    return row;
}

void OpCheck::indices_in_range(const dd_tensor& t, const char* name, int64_t bound, const char* bound_name) {
    if (t.storage->device_type != DD_DEVICE_CPU) return;
    const int32_t* p = static_cast<const int32_t*>(t.data());
    for (int64_t i = 0; i < t.shape[0]; ++i) {
        int32_t v = p[i * t.strides[0]];
        if (v < 0 || v >= bound)
            error(DD_ERR_INVALID_ARGUMENT, format("tensor '%s'[%lld] = %d outside [0, %lld) (%s)", name, (long long)i, v,
                                                  (long long)bound, bound_name));
    }
}

namespace {
// Element range [lo, hi] a (validated) view addresses in its storage.
void extent(const dd_tensor& t, int64_t* lo, int64_t* hi) {
    *lo = *hi = t.offset;
    for (int i = 0; i < t.ndim; ++i) {
        int64_t span = (t.shape[i] - 1) * t.strides[i];
        if (span < 0) *lo += span; else *hi += span;
    }
}
}  // namespace

void OpCheck::no_overlap(const dd_tensor& out, const char* out_name, const dd_tensor* in, const char* in_name) {
    if (!in || in->storage != out.storage || out.numel() == 0 || in->numel() == 0) return;
    int64_t a0, a1, b0, b1;
    extent(out, &a0, &a1);
    extent(*in, &b0, &b1);
    if (a0 <= b1 && b0 <= a1)
        error(DD_ERR_INVALID_ARGUMENT, format("output '%s' overlaps input '%s' in memory; use a separate buffer", out_name,
                                              in_name));
}

const Backend& OpCheck::backend() const { return backend_for(device_type_); }

}  // namespace dd
