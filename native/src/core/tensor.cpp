// Tensor handles: creation, strided views, host transfers, dtype conversion.
#include "tensor.h"

#include <cstring>

#include "../cpu/gemm.h"
#include "device_memory.h"
#include "error.h"
#include "half.h"

namespace dd {

Storage::~Storage() { device_free(device_type, device_index, ptr, bytes); }

size_t dtype_size(int dtype) {
    switch (dtype) {
        case DD_F32: case DD_I32: return 4;
        case DD_BF16: case DD_F16: return 2;
        case DD_I64: return 8;
        default: return 0;
    }
}

const char* dtype_name(int dtype) {
    switch (dtype) {
        case DD_F32: return "f32";
        case DD_BF16: return "bf16";
        case DD_F16: return "f16";
        case DD_I32: return "i32";
        case DD_I64: return "i64";
        default: return "unknown";
    }
}

const char* device_name(int device_type) {
    switch (device_type) {
        case DD_DEVICE_CPU: return "cpu";
        case DD_DEVICE_CUDA: return "cuda";
        case DD_DEVICE_CUDA_EMU: return "cuda-emu";
        default: return "unknown";
    }
}

}  // namespace dd

bool dd_tensor::contiguous() const {
    int64_t expect = 1;
    for (int i = ndim - 1; i >= 0; --i) {
        if (shape[i] != 1 && strides[i] != expect) return false;
        expect *= shape[i];
    }
    return true;
}

void* dd_tensor::data() const {
    return static_cast<char*>(storage->ptr) + offset * (int64_t)dd::dtype_size(dtype);
}

std::string dd_tensor::shape_str() const {
    std::string s = "[";
    for (int i = 0; i < ndim; ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
}

using dd::Error;
using dd::format;

namespace {

void check_shape(int ndim, const int64_t* shape, const char* where) {
    if (ndim < 0 || ndim > DD_MAX_DIMS)
        throw Error(DD_ERR_SHAPE, format("%s: rank %d outside 0..%d", where, ndim, DD_MAX_DIMS));
    if (ndim > 0 && !shape) throw Error(DD_ERR_INVALID_ARGUMENT, format("%s: shape is NULL", where));
    for (int i = 0; i < ndim; ++i)
        if (shape[i] < 0)
            throw Error(DD_ERR_SHAPE, format("%s: dimension %d is negative (%lld)", where, i, (long long)shape[i]));
}

void need(const dd_tensor* t, const char* where) {
    if (!t) throw Error(DD_ERR_INVALID_ARGUMENT, format("%s: tensor handle is NULL", where));
}

// Range [lo, hi] of element offsets (from storage start) that a view addresses; false if empty.
// Throws when the arithmetic overflows (a huge shape times a stride must not wrap into range).
bool view_extent(const dd_tensor& t, int64_t* lo, int64_t* hi) {
    int64_t a = t.offset, b = t.offset;
    for (int i = 0; i < t.ndim; ++i) {
        if (t.shape[i] == 0) return false;
    }
    for (int i = 0; i < t.ndim; ++i) {
        int64_t span;
        if (__builtin_mul_overflow(t.shape[i] - 1, t.strides[i], &span) ||
            (span < 0 ? __builtin_add_overflow(a, span, &a) : __builtin_add_overflow(b, span, &b)))
            throw Error(DD_ERR_SHAPE, format("dd_tensor_view: view %s with these strides addresses beyond any storage",
                                             t.shape_str().c_str()));
    }
    *lo = a;
    *hi = b;
    return true;
}

void check_transfer(const dd_tensor* t, int64_t nbytes, int64_t off, const char* where) {
    need(t, where);
    if (!t->contiguous())
        throw Error(DD_ERR_INVALID_ARGUMENT, format("%s: tensor %s is a non-contiguous view; copy it first", where,
                                                    t->shape_str().c_str()));
    int64_t total = t->numel() * (int64_t)dd::dtype_size(t->dtype);
    if (nbytes < 0 || off < 0 || off + nbytes > total)
        throw Error(DD_ERR_INVALID_ARGUMENT,
                    format("%s: byte range [%lld, %lld) outside the tensor's %lld bytes", where, (long long)off,
                           (long long)(off + nbytes), (long long)total));
}


float load_as_float(const void* p, int dtype) {
    switch (dtype) {
        case DD_F32: return *static_cast<const float*>(p);
        case DD_BF16: return dd::bf16_to_f32(*static_cast<const uint16_t*>(p));
        case DD_F16: return dd::f16_to_f32(*static_cast<const uint16_t*>(p));
        default: return 0.f;
    }
}

void store_float(void* p, int dtype, float v) {
    switch (dtype) {
        case DD_F32: *static_cast<float*>(p) = v; break;
        case DD_BF16: *static_cast<uint16_t*>(p) = dd::f32_to_bf16(v); break;
        case DD_F16: *static_cast<uint16_t*>(p) = dd::f32_to_f16(v); break;
        default: break;
    }
}

int64_t load_as_int(const void* p, int dtype) {
    return dtype == DD_I32 ? *static_cast<const int32_t*>(p) : *static_cast<const int64_t*>(p);
}

bool is_float(int dtype) { return dtype == DD_F32 || dtype == DD_BF16 || dtype == DD_F16; }

}  // namespace

extern "C" {

int dd_dtype_size(int dtype) { return (int)dd::dtype_size(dtype); }
const char* dd_dtype_name(int dtype) { return dd::dtype_name(dtype); }

dd_status dd_tensor_new(int device_type, int device_index, int dtype, int ndim, const int64_t* shape,
                        dd_tensor** out) {
    return dd::guard("dd_tensor_new", [&] {
        if (!out) throw Error(DD_ERR_INVALID_ARGUMENT, "dd_tensor_new: out is NULL");
        *out = nullptr;
        if (dd::dtype_size(dtype) == 0) throw Error(DD_ERR_DTYPE, format("dd_tensor_new: unknown dtype %d", dtype));
        check_shape(ndim, shape, "dd_tensor_new");
        auto t = std::make_unique<dd_tensor>();
        t->dtype = dtype;
        t->ndim = ndim;
        int64_t n = 1;
        for (int i = ndim - 1; i >= 0; --i) {
            t->shape[i] = shape[i];
            t->strides[i] = n;
            if (shape[i] > 0 && n > (INT64_MAX / 16) / shape[i])
                throw Error(DD_ERR_SHAPE, "dd_tensor_new: element count overflows");
            n *= shape[i];
        }
        auto st = std::make_shared<dd::Storage>();
        st->bytes = (size_t)n * dd::dtype_size(dtype);
        st->device_type = device_type;
        st->device_index = device_index;
        st->ptr = dd::device_alloc(device_type, device_index, st->bytes);
        t->storage = std::move(st);
        *out = t.release();
        return DD_OK;
    });
}

dd_status dd_tensor_view(const dd_tensor* base, int ndim, const int64_t* shape, const int64_t* strides,
                         int64_t offset, dd_tensor** out) {
    return dd::guard("dd_tensor_view", [&] {
        if (!out) throw Error(DD_ERR_INVALID_ARGUMENT, "dd_tensor_view: out is NULL");
        *out = nullptr;
        need(base, "dd_tensor_view");
        check_shape(ndim, shape, "dd_tensor_view");
        if (ndim > 0 && !strides) throw Error(DD_ERR_INVALID_ARGUMENT, "dd_tensor_view: strides is NULL");
        auto t = std::make_unique<dd_tensor>();
        t->storage = base->storage;
        t->dtype = base->dtype;
        t->ndim = ndim;
        t->offset = base->offset + offset;
        for (int i = 0; i < ndim; ++i) {
            t->shape[i] = shape[i];
            t->strides[i] = strides[i];
        }
        int64_t lo, hi;
        int64_t cap = (int64_t)(base->storage->bytes / dd::dtype_size(base->dtype));
        if (view_extent(*t, &lo, &hi) && (lo < 0 || hi >= cap))
            throw Error(DD_ERR_SHAPE, format("dd_tensor_view: view %s at offset %lld reaches elements [%lld, %lld] "
                                             "outside the storage of %lld elements",
                                             t->shape_str().c_str(), (long long)offset, (long long)lo,
                                             (long long)hi, (long long)cap));
        *out = t.release();
        return DD_OK;
    });
}

void dd_tensor_free(dd_tensor* t) { delete t; }

int dd_tensor_ndim(const dd_tensor* t) { return t ? t->ndim : -1; }
int64_t dd_tensor_dim(const dd_tensor* t, int i) { return t && i >= 0 && i < t->ndim ? t->shape[i] : -1; }
int64_t dd_tensor_stride(const dd_tensor* t, int i) { return t && i >= 0 && i < t->ndim ? t->strides[i] : 0; }
int64_t dd_tensor_offset(const dd_tensor* t) { return t ? t->offset : 0; }
int dd_tensor_dtype(const dd_tensor* t) { return t ? t->dtype : -1; }
int dd_tensor_device_type(const dd_tensor* t) { return t ? t->storage->device_type : -1; }
int dd_tensor_device_index(const dd_tensor* t) { return t ? t->storage->device_index : -1; }
int64_t dd_tensor_numel(const dd_tensor* t) { return t ? t->numel() : 0; }
int dd_tensor_is_contiguous(const dd_tensor* t) { return t && t->contiguous() ? 1 : 0; }
void* dd_tensor_data(const dd_tensor* t) {
    return t && t->storage->device_type == DD_DEVICE_CPU ? t->data() : nullptr;
}

dd_status dd_tensor_write(dd_tensor* t, const void* src, int64_t nbytes, int64_t off) {
    return dd::guard("dd_tensor_write", [&] {
        check_transfer(t, nbytes, off, "dd_tensor_write");
        if (nbytes > 0 && !src) throw Error(DD_ERR_INVALID_ARGUMENT, "dd_tensor_write: source is NULL");
        if (nbytes > 0) dd::copy_to_device(t->storage->device_type, static_cast<char*>(t->data()) + off, src, nbytes);
        return DD_OK;
    });
}

dd_status dd_tensor_read(const dd_tensor* t, void* dst, int64_t nbytes, int64_t off) {
    return dd::guard("dd_tensor_read", [&] {
        check_transfer(t, nbytes, off, "dd_tensor_read");
        if (nbytes > 0 && !dst) throw Error(DD_ERR_INVALID_ARGUMENT, "dd_tensor_read: destination is NULL");
        if (nbytes > 0)
            dd::copy_from_device(t->storage->device_type, dst, static_cast<const char*>(t->data()) + off, nbytes);
        return DD_OK;
    });
}

dd_status dd_tensor_zero(dd_tensor* t) {
    return dd::guard("dd_tensor_zero", [&] {
        int64_t bytes = t ? t->numel() * (int64_t)dd::dtype_size(t->dtype) : 0;
        check_transfer(t, bytes, 0, "dd_tensor_zero");
        if (bytes > 0) dd::zero_memory(t->storage->device_type, t->data(), bytes);
        return DD_OK;
    });
}

dd_status dd_copy(const dd_tensor* src, dd_tensor* dst) {
    return dd::guard("dd_copy", [&] {
        need(src, "dd_copy(src)");
        need(dst, "dd_copy(dst)");
        if (src->storage->device_type != DD_DEVICE_CPU || dst->storage->device_type != DD_DEVICE_CPU)
            throw Error(DD_ERR_UNSUPPORTED, "dd_copy: only CPU tensors can be converted; read device tensors to host");
        if (src->ndim != dst->ndim || std::memcmp(src->shape, dst->shape, sizeof(int64_t) * src->ndim) != 0)
            throw Error(DD_ERR_SHAPE, format("dd_copy: src shape %s != dst shape %s", src->shape_str().c_str(),
                                             dst->shape_str().c_str()));
        if (is_float(src->dtype) != is_float(dst->dtype))
            throw Error(DD_ERR_DTYPE, format("dd_copy: cannot convert %s to %s", dd::dtype_name(src->dtype),
                                             dd::dtype_name(dst->dtype)));
        const size_t ss = dd::dtype_size(src->dtype), ds = dd::dtype_size(dst->dtype);
        const int64_t n = src->numel();
        dd::cpu::forget_weights(dst->storage->ptr, dst->storage->bytes);  // dst's bf16 weight copies go stale
        int64_t idx[DD_MAX_DIMS] = {};
        const char* sp = static_cast<const char*>(src->data());
        char* dp = static_cast<char*>(dst->data());
        for (int64_t e = 0; e < n; ++e) {
            int64_t so = 0, dof = 0;
            for (int i = 0; i < src->ndim; ++i) {
                so += idx[i] * src->strides[i];
                dof += idx[i] * dst->strides[i];
            }
            const void* s = sp + so * (int64_t)ss;
            void* d = dp + dof * (int64_t)ds;
            if (src->dtype == dst->dtype) std::memcpy(d, s, ss);
            else if (is_float(src->dtype)) store_float(d, dst->dtype, load_as_float(s, src->dtype));
            else if (dst->dtype == DD_I32) *static_cast<int32_t*>(d) = (int32_t)load_as_int(s, src->dtype);
            else *static_cast<int64_t*>(d) = load_as_int(s, src->dtype);
            for (int i = src->ndim - 1; i >= 0; --i) {
                if (++idx[i] < src->shape[i]) break;
                idx[i] = 0;
            }
        }
        return DD_OK;
    });
}

}  // extern "C"
