// CPU convolution (stride 1, zero padding (k-1)/2) as im2col + GEMM: OpenMP threads each take tiles of
// (sample, output pixels, output channels) and run a oneDNN matmul on them (single-threaded inside the region). A tile's im2col lands in a per-thread buffer that only grows, so steady
// shapes allocate nothing; 1x1 kernels read x in place.
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "../core/error.h"
#include "../core/vae_backend.h"
#include "gemm.h"

namespace dd::cpu {
namespace {

// im2col buffer target per thread (floats): big enough that a GEMM call amortises packing the weights
// (Co x K) over many pixels, small enough to stay near the caches; 16 MiB at most.
constexpr int64_t kColFloats = int64_t(1) << 22;
constexpr int64_t kMinTile = 64;  // pixels

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
int64_t round_up(int64_t a, int64_t m) { return ceil_div(a, m) * m; }

// How the output is cut into work items: pixel tiles of `pixels`, output-channel chunks of `co_step`.
struct Tiling {
    int64_t pixels, tiles, co_step, co_parts, threads;
};

Tiling plan(const Conv2dParams& p, int64_t K, int64_t HW, bool direct) {
    Tiling t{};
    const int max_threads = omp_get_max_threads();
    const double flops = 2.0 * (double)p.N * (double)p.Co * (double)K * (double)HW;
    t.threads = flops < double(1 << 22) ? 1 : max_threads;
    t.pixels = direct ? HW : std::clamp(kColFloats / std::max<int64_t>(K, 1) / kMinTile * kMinTile, kMinTile,
                                        int64_t(4096));
    t.pixels = std::min(t.pixels, HW);
    t.tiles = ceil_div(HW, t.pixels);
    // Enough items for every thread: finer pixel tiles first (cheap), then output-channel chunks (which
    // repeat the tile's im2col).
    while (p.N * t.tiles < t.threads && t.pixels > kMinTile) {
        t.pixels = std::max(kMinTile, round_up(t.pixels / 2, 16));
        t.tiles = ceil_div(HW, t.pixels);
    }
    t.co_step = p.Co;
    if (p.N * t.tiles < t.threads) {
        const int64_t parts = ceil_div(t.threads, p.N * t.tiles);
        t.co_step = std::max<int64_t>(16, round_up(ceil_div(p.Co, parts), 16));
    }
    t.co_parts = ceil_div(p.Co, t.co_step);
    return t;
}

// col[k][q] for pixels p0 + q, q < L, k = (c, a, b): x[c, i+a-ph, j+b-pw] or 0 outside the image.
void im2col(const Conv2dParams& p, const float* xn, int64_t p0, int64_t L, float* col) {
    const int64_t H = p.H, W = p.W, HW = H * W, ph = (p.kh - 1) / 2, pw = (p.kw - 1) / 2;
    for (int64_t c = 0; c < p.Ci; ++c)
        for (int64_t a = 0; a < p.kh; ++a)
            for (int64_t b = 0; b < p.kw; ++b) {
                float* dst = col + ((c * p.kh + a) * p.kw + b) * L;
                const float* src = xn + c * HW;
                const int64_t dy = a - ph, dx = b - pw;
                for (int64_t q = p0, end = p0 + L; q < end;) {
                    const int64_t i = q / W, j0 = q % W, j1 = std::min(W, j0 + (end - q)), seg = j1 - j0;
                    const int64_t si = i + dy;
                    if (si < 0 || si >= H) {
                        std::memset(dst, 0, sizeof(float) * seg);
                    } else {
                        // source column j + dx must lie in [0, W)
                        const int64_t lo = std::clamp(-dx, j0, j1), hi = std::clamp(W - dx, lo, j1);
                        std::memset(dst, 0, sizeof(float) * (lo - j0));
                        std::memcpy(dst + (lo - j0), src + si * W + lo + dx, sizeof(float) * (hi - lo));
                        std::memset(dst + (hi - j0), 0, sizeof(float) * (j1 - hi));
                    }
                    dst += seg;
                    q += seg;
                }
            }
}

// y rows [co0, co1) at pixels [p0, p0+L) of sample n start as bias + residual; returns whether they
// hold anything (else the GEMM overwrites them with beta = 0).
bool init_output(const Conv2dParams& p, int64_t n, int64_t co0, int64_t co1, int64_t p0, int64_t L) {
    const int64_t HW = p.H * p.W;
    const bool in_place_residual = p.residual == p.y;
    for (int64_t o = co0; o < co1; ++o) {
        float* y = p.y + (n * p.Co + o) * HW + p0;
        const float b = p.bias ? p.bias[o] : 0.f;
        if (p.residual && !in_place_residual) {
            const float* r = p.residual + (n * p.Co + o) * HW + p0;
            for (int64_t q = 0; q < L; ++q) y[q] = r[q] + b;
        } else if (in_place_residual) {
            if (p.bias)
                for (int64_t q = 0; q < L; ++q) y[q] += b;
        } else if (p.bias) {
            std::fill(y, y + L, b);
        }
    }
    return p.bias || p.residual;
}

dd_status conv_item(const Conv2dParams& p, const Tiling& t, int64_t item, int64_t K, bool direct,
                    std::vector<float>& col) {
    const int64_t HW = p.H * p.W;
    const int64_t cp = item % t.co_parts, tile = (item / t.co_parts) % t.tiles, n = item / (t.co_parts * t.tiles);
    const int64_t p0 = tile * t.pixels, L = std::min(t.pixels, HW - p0);
    const int64_t co0 = cp * t.co_step, co1 = std::min(p.Co, co0 + t.co_step);
    const bool accumulate = init_output(p, n, co0, co1, p0, L);
    if (K == 0) {
        if (!accumulate)
            for (int64_t o = co0; o < co1; ++o) std::fill_n(p.y + (n * p.Co + o) * HW + p0, L, 0.f);
        return DD_OK;
    }
    const float* xn = p.x + n * p.Ci * HW;
    const float* b;
    int64_t ldb;
    if (direct) {
        b = xn + p0;
        ldb = HW;
    } else {
        if ((int64_t)col.size() < K * L) col.resize((size_t)(K * L));
        im2col(p, xn, p0, L, col.data());
        b = col.data();
        ldb = L;
    }
    const Gemm g{p.w + co0 * K, K, 1, b, ldb, 1, false, nullptr, p.y + (n * p.Co + co0) * HW + p0, HW, co1 - co0, L, K,
                 accumulate};
    return gemm("dd_conv2d", g);
}

}  // namespace

dd_status conv2d(const Conv2dParams& p) {
    const int64_t HW = p.H * p.W, K = p.Ci * p.kh * p.kw;
    if (p.N == 0 || p.Co == 0 || HW == 0) return DD_OK;
    const bool direct = p.kh == 1 && p.kw == 1;
    const Tiling t = plan(p, K, HW, direct);
    const int64_t items = p.N * t.tiles * t.co_parts;
    static thread_local std::vector<float> col;  // per-thread im2col tile; only grows
    if (t.threads == 1 || items == 1) {
        for (int64_t i = 0; i < items; ++i)
            if (dd_status s = conv_item(p, t, i, K, direct, col)) return s;
        return DD_OK;
    }
    // A failing tile's message is recorded on its worker thread: carried back to the calling thread here.
    dd_status failed = DD_OK;
    std::string message;
#pragma omp parallel for schedule(dynamic) num_threads(t.threads)
    for (int64_t i = 0; i < items; ++i) {
        if (dd_status s = conv_item(p, t, i, K, direct, col)) {
#pragma omp critical(dd_conv2d_failure)
            if (failed == DD_OK) failed = s, message = dd_last_error();
        }
    }
    return failed == DD_OK ? DD_OK : fail(failed, message);
}

}  // namespace dd::cpu
