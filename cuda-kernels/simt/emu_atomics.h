// CUDA atomics for emulated kernels. Blocks run in parallel on several OS threads, so these are real
// (sequentially consistent) hardware atomics; within a block fibers never preempt each other.
#pragma once
#include <cstdint>

namespace dd::simt::emu {

// Read-modify-write through a compare-exchange loop, for operations without a GCC builtin
// (float/double add, float exchange-free min/max). Returns the old value, as CUDA does.
template <class T, class F>
inline T atomic_rmw(T* p, F f) {
    T old, desired;
    __atomic_load(p, &old, __ATOMIC_RELAXED);
    do {
        desired = f(old);
    } while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED));
    return old;
}

}  // namespace dd::simt::emu

#define DD_EMU_ATOMIC_INT(T)                                                                                 \
    inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }                   \
    inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }                   \
    inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }                 \
    inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }                   \
    inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }                     \
    inline T atomicXor(T* p, T v) { return __atomic_fetch_xor(p, v, __ATOMIC_SEQ_CST); }                   \
    inline T atomicMin(T* p, T v) {                                                                          \
        return ::dd::simt::emu::atomic_rmw(p, [v](T o) { return o < v ? o : v; });                          \
    }                                                                                                        \
    inline T atomicMax(T* p, T v) {                                                                          \
        return ::dd::simt::emu::atomic_rmw(p, [v](T o) { return o > v ? o : v; });                          \
    }                                                                                                        \
    inline T atomicCAS(T* p, T compare, T v) {                                                               \
        __atomic_compare_exchange_n(p, &compare, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);              \
        return compare;                                                                                      \
    }

DD_EMU_ATOMIC_INT(int)
DD_EMU_ATOMIC_INT(unsigned int)
DD_EMU_ATOMIC_INT(unsigned long long int)
DD_EMU_ATOMIC_INT(long long int)
#undef DD_EMU_ATOMIC_INT

inline float atomicAdd(float* p, float v) {
    return ::dd::simt::emu::atomic_rmw(p, [v](float o) { return o + v; });
}
inline double atomicAdd(double* p, double v) {
    return ::dd::simt::emu::atomic_rmw(p, [v](double o) { return o + v; });
}
inline float atomicExch(float* p, float v) {
    float old;
    __atomic_exchange(p, &v, &old, __ATOMIC_SEQ_CST);
    return old;
}
// CUDA's wrapping increment / decrement: ((old >= limit) ? 0 : old + 1), ((old == 0 || old > limit) ? limit : old - 1).
inline unsigned atomicInc(unsigned* p, unsigned limit) {
    return ::dd::simt::emu::atomic_rmw(p, [limit](unsigned o) { return o >= limit ? 0u : o + 1; });
}
inline unsigned atomicDec(unsigned* p, unsigned limit) {
    return ::dd::simt::emu::atomic_rmw(p, [limit](unsigned o) { return (o == 0 || o > limit) ? limit : o - 1; });
}
