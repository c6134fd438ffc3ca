// The device bf16 weight cache of bf16_weights.h: a mutex-guarded map from weight views to their copies.
#include "bf16_weights.h"

#include <map>
#include <mutex>
#include <tuple>

#include "bf16_round.cuh"
#include "cuda_context.h"

namespace dd::cuda_impl {
namespace {

struct Key {
    const float* w;
    int64_t rows, cols, ld;
    bool operator<(const Key& o) const { return std::tie(w, rows, cols, ld) < std::tie(o.w, o.rows, o.cols, o.ld); }
    // Bytes of the source view: [w, w + end()).
    size_t end() const { return rows == 0 ? 0 : (size_t)((rows - 1) * ld + cols) * sizeof(float); }
};

struct Copy {
    Bf16Weights w;
    int device;
};

struct Cache {
    std::mutex mu;
    std::map<Key, Copy> copies;
};

// Rounds key's weights into its copy on the legacy stream of the copy's device and waits (the current device is
// restored): after a synchronous rewrite, before anything else reads the copy.
bool round_into(const Key& key, const Copy& c) {
    int current = 0;
    if (cudaGetDevice(&current) != cudaSuccess || cudaSetDevice(c.device) != cudaSuccess) return false;
    const bool ok = cuda_kernels::round_rows_bf16(key.w, key.ld, const_cast<uint16_t*>(c.w.p), c.w.rs, key.rows,
                                                  key.cols, 0) == cudaSuccess &&
                    cudaStreamSynchronize(0) == cudaSuccess;
    cudaSetDevice(current);
    return ok;
}
Cache& cache() {
    static Cache* c = new Cache;  // never destroyed: frees may come from static destructors of other files
    return *c;
}

}  // namespace

Bf16Weights bf16_weights(const float* w, int64_t rows, int64_t cols, int64_t ld) {
    if (!w || rows <= 0 || cols <= 0 || ld < cols) return {};
    const Key key{w, rows, cols, ld};
    Cache& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.copies.find(key);
    if (it != c.copies.end()) return it->second.w;
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    if (cudaStreamIsCapturing(stream(), &capture) != cudaSuccess || capture != cudaStreamCaptureStatusNone) {
        cudaGetLastError();
        return {};
    }
    Bf16Weights copy;
    copy.rs = (cols + 7) / 8 * 8;
    void* p = nullptr;
    if (cudaMalloc(&p, (size_t)(rows * copy.rs) * sizeof(uint16_t)) != cudaSuccess) {
        cudaGetLastError();
        return {};
    }
    // Waited for under the lock: another thread's stream may use the copy as soon as it is in the map.
    if (cuda_kernels::round_rows_bf16(w, ld, static_cast<uint16_t*>(p), copy.rs, rows, cols, stream()) != cudaSuccess ||
        cudaStreamSynchronize(stream()) != cudaSuccess) {
        cudaGetLastError();
        cudaFree(p);
        return {};
    }
    copy.p = static_cast<const uint16_t*>(p);
    int device = 0;
    cudaGetDevice(&device);
    c.copies.emplace(key, Copy{copy, device});
    return copy;
}

}  // namespace dd::cuda_impl

namespace dd {
namespace {
// Applies fn(key, copy) to the copies overlapping [p, p + bytes); those for which it returns false are freed and
// dropped.
template <class Fn>
void for_overlapping(const void* p, size_t bytes, Fn fn) noexcept {
    using cuda_impl::cache;
    const char* lo = static_cast<const char*>(p);
    const char* hi = lo + bytes;
    auto& c = cache();
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto it = c.copies.begin(); it != c.copies.end();) {
        const char* w = reinterpret_cast<const char*>(it->first.w);
        if (w < hi && lo < w + it->first.end() && !fn(it->first, it->second)) {
            cudaFree(const_cast<uint16_t*>(it->second.w.p));
            it = c.copies.erase(it);
        } else {
            ++it;
        }
    }
}
}  // namespace

void forget_bf16_weights(const void* p, size_t bytes) noexcept {
    for_overlapping(p, bytes, [](const cuda_impl::Key&, const cuda_impl::Copy&) { return false; });
}

void refresh_bf16_weights(const void* p, size_t bytes) noexcept {
    for_overlapping(p, bytes, [](const cuda_impl::Key& k, const cuda_impl::Copy& c) {
        if (cuda_impl::round_into(k, c)) return true;
        cudaGetLastError();
        return false;
    });
}
}  // namespace dd
