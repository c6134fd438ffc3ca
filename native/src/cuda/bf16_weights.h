// bf16 copies of GEMM weights on the device for the bf16 GEMM (LinearArgs::w16): W moves half the bytes.
// Each weight view is rounded once, on first use, and the copy is kept (shared by all threads) until the
// memory under it is freed (cuda_free calls forget_bf16_weights). A rewrite through the tensor API (cuda_copy,
// cuda_zero call refresh_bf16_weights) rounds the copy again in place, so CUDA graphs that read it see the new
// weights, as they would the fp32 ones. Writes by kernels into a weight tensor are not seen: weights are inputs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace dd::cuda_impl {

struct Bf16Weights {
    const uint16_t* p = nullptr;  // null: none now (use the fp32 weights)
    int64_t rs = 0;               // row stride in values (cols rounded up to 8: 16-B aligned rows)
};

// The bf16 copy of w [rows, cols] (row stride ld floats) on the current device. Made on this thread's stream
// and waited for before it is shared. None while this thread's stream is capturing (a capture may not
// allocate: a forward captured before any uncaptured one keeps fp32 weights) or when the copy cannot be
// made (out of memory: the error is cleared, the caller runs on fp32 weights).
Bf16Weights bf16_weights(const float* w, int64_t rows, int64_t cols, int64_t ld);

}  // namespace dd::cuda_impl

namespace dd {
// Drops (and frees) the copies of weights overlapping [p, p + bytes): that memory is being freed.
void forget_bf16_weights(const void* p, size_t bytes) noexcept;
// Rounds the copies of weights overlapping [p, p + bytes) again (that memory was just rewritten), waiting for it;
// a copy that cannot be refreshed is dropped.
void refresh_bf16_weights(const void* p, size_t bytes) noexcept;
}  // namespace dd
