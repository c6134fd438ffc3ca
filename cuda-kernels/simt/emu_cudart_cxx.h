// C++ overloads that cuda_runtime.h declares only for nvcc (its kernel-entry templates sit inside
// #if __CUDACC__), so host code in .cu files that calls cudaFuncSetAttribute(kernel, ...) compiles
// under the emulator too. (cudaMalloc(T**) and friends are declared for every compiler.)
#pragma once

template <class T>
inline cudaError_t cudaFuncSetAttribute(T* kernel, cudaFuncAttribute attr, int value) {
    return ::cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}
