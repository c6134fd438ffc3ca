// Internal layout of a dd_tensor: shared storage plus a strided view onto it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "dyndit/dyndit.h"

namespace dd {

struct Storage {
    void* ptr = nullptr;
    size_t bytes = 0;
    int device_type = DD_DEVICE_CPU;
    int device_index = 0;
    Storage() = default;
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
    ~Storage();
};

}  // namespace dd

struct dd_tensor {
    std::shared_ptr<dd::Storage> storage;
    int dtype = DD_F32;
    int ndim = 0;
    int64_t shape[DD_MAX_DIMS] = {};
    int64_t strides[DD_MAX_DIMS] = {};
    int64_t offset = 0;  // in elements, from storage->ptr

    int64_t numel() const {
        int64_t n = 1;
        for (int i = 0; i < ndim; ++i) n *= shape[i];
        return n;
    }
    bool contiguous() const;
    void* data() const;  // address of the first element (device or host)
    std::string shape_str() const;  // "[2,16,64]"
};

namespace dd {
size_t dtype_size(int dtype);
const char* dtype_name(int dtype);
const char* device_name(int device_type);
}  // namespace dd
