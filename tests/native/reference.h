// Naive double-precision reference implementations of every op, on dense row-major host arrays
// holding the exact fp32 inputs the library got. Each returns the answer plus, per element, the
// magnitude of the terms that were summed for it: the error of an fp32 reduction scales with that
// magnitude, not with the (possibly cancelled) result.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace ddref {

struct Expected {
    std::vector<double> value;
    std::vector<double> magnitude;
};

inline Expected sized(size_t n) { return {std::vector<double>(n), std::vector<double>(n)}; }

// y[m,n] = sum_k x[m,k] w[n,k] + bias[n]; magnitude = |bias| + sum_k |x w|.
inline Expected linear(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias,
                       int64_t M, int64_t N, int64_t K) {
    Expected e = sized((size_t)(M * N));
    for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
            double s = bias.empty() ? 0.0 : bias[n], a = bias.empty() ? 0.0 : std::fabs(bias[n]);
            for (int64_t k = 0; k < K; ++k) {
                double p = (double)x[m * K + k] * w[n * K + k];
                s += p;
                a += std::fabs(p);
            }
            e.value[m * N + n] = s;
            e.magnitude[m * N + n] = a;
        }
    return e;
}

// y = (x - mean) / sqrt(var + eps) * (1 + scale[n]) + shift[n] per row of D (biased variance);
// shift/scale empty = absent. magnitude = rstd * (mean|x| + |x - mean|) * |1 + scale| + |shift|: the
// error of the fp32 mean and centring scaled the way the output scales it.
inline Expected layernorm_modulate(const std::vector<float>& x, const std::vector<float>& shift,
                                   const std::vector<float>& scale, int64_t N, int64_t T, int64_t D, double eps) {
    Expected e = sized((size_t)(N * T * D));
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t) {
            const float* row = &x[(n * T + t) * D];
            double mean = 0, mean_abs = 0, var = 0;
            for (int64_t i = 0; i < D; ++i) mean += row[i], mean_abs += std::fabs(row[i]);
            mean /= D;
            mean_abs /= D;
            for (int64_t i = 0; i < D; ++i) var += (row[i] - mean) * (row[i] - mean);
            const double rstd = 1.0 / std::sqrt(var / D + eps);
            for (int64_t i = 0; i < D; ++i) {
                const double g = 1.0 + (scale.empty() ? 0.0 : scale[n * D + i]);
                const double b = shift.empty() ? 0.0 : shift[n * D + i];
                const size_t o = (size_t)((n * T + t) * D + i);
                e.value[o] = (row[i] - mean) * rstd * g + b;
                e.magnitude[o] = rstd * (mean_abs + std::fabs(row[i] - mean)) * std::fabs(g) + std::fabs(b);
            }
        }
    return e;
}

// GELU of an expected result a (a linear's, say): its error passes through |gelu'| <= 1.13.
inline Expected gelu_tanh_of(const Expected& a) {
    Expected e = sized(a.value.size());
    const double c = std::sqrt(2.0 / 3.14159265358979323846);
    for (size_t i = 0; i < a.value.size(); ++i) {
        const double v = a.value[i];
        e.value[i] = 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v)));
        e.magnitude[i] = 1.13 * a.magnitude[i];
    }
    return e;
}

// GELU, tanh approximation, exactly as PyTorch writes it.
inline Expected gelu_tanh(const std::vector<float>& x) {
    Expected e = sized(x.size());
    const double pi = 3.14159265358979323846;
    const double c = std::sqrt(2.0 / pi);
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        e.value[i] = 0.5 * v * (1.0 + std::tanh(c * (v + 0.044715 * v * v * v)));
        e.magnitude[i] = std::fabs(v);
    }
    return e;
}

inline Expected silu(const std::vector<float>& x) {
    Expected e = sized(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double v = x[i];
        e.value[i] = v / (1.0 + std::exp(-v));
        e.magnitude[i] = std::fabs(v);
    }
    return e;
}

// h[n,t,:] + gate[n,:] * x[n,t,:]; gate empty = 1. magnitude = |h| + |gate x|.
inline Expected gated_residual_add(const std::vector<float>& h, const std::vector<float>& gate,
                                   const std::vector<float>& x, int64_t N, int64_t T, int64_t D) {
    Expected e = sized(h.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t t = 0; t < T; ++t)
            for (int64_t i = 0; i < D; ++i) {
                const size_t o = (size_t)((n * T + t) * D + i);
                const double g = gate.empty() ? 1.0 : gate[n * D + i];
                e.value[o] = h[o] + g * x[o];
                e.magnitude[o] = std::fabs(h[o]) + std::fabs(g * x[o]);
            }
    return e;
}

// Row i of softmax(q k^T * scale) for one (n, head): p[j] (normalised) and max_j sum_d |q_d k_jd| (returned).
// q_row: Dh floats; k: key j's Dh floats at k + j * k_stride.
inline double softmax_row(const float* q_row, const float* k, int64_t k_stride, int64_t Tk, int64_t Dh, double scale,
                          std::vector<double>& p) {
    double mx = -INFINITY, abs_max = 0;
    for (int64_t j = 0; j < Tk; ++j) {
        const float* kj = k + j * k_stride;
        double s = 0, a = 0;
        for (int64_t d = 0; d < Dh; ++d) s += (double)q_row[d] * kj[d], a += std::fabs((double)q_row[d] * kj[d]);
        p[j] = s * scale;
        mx = std::max(mx, p[j]);
        abs_max = std::max(abs_max, a);
    }
    double sum = 0;
    for (int64_t j = 0; j < Tk; ++j) sum += (p[j] = std::exp(p[j] - mx));
    for (int64_t j = 0; j < Tk; ++j) p[j] /= sum;
    return abs_max;
}

// out = softmax(q k^T * scale) v per (n, head); q, out dense [N,Tq,H,Dh], k, v dense [N,Tk,H,Dh].
// magnitude = sum_j p_j |v_j| * (1 + 2 * scale * max_j sum_d |q_d k_jd|): the output error is the
// probabilities' relative error (from the fp32 scores and from the row maximum, hence 2) carried by
// the values, plus the rounding of the weighted sum itself.
inline Expected attention_rows(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                               int64_t N, int64_t Tq, int64_t Tk, int64_t H, int64_t Dh, double scale) {
    Expected e = sized(q.size());
    auto qat = [&](int64_t n, int64_t t, int64_t h) { return (size_t)(((n * Tq + t) * H + h) * Dh); };
    auto kat = [&](int64_t n, int64_t t, int64_t h) { return (size_t)(((n * Tk + t) * H + h) * Dh); };
    std::vector<double> p((size_t)Tk);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < Tq; ++i) {
                const double abs_max = softmax_row(&q[qat(n, i, h)], &k[kat(n, 0, h)], H * Dh, Tk, Dh, scale, p);
                for (int64_t d = 0; d < Dh; ++d) {
                    double o = 0, a = 0;
                    for (int64_t j = 0; j < Tk; ++j) {
                        const double vj = v[kat(n, j, h) + d];
                        o += p[j] * vj;
                        a += p[j] * std::fabs(vj);
                    }
                    e.value[qat(n, i, h) + d] = o;
                    e.magnitude[qat(n, i, h) + d] = a * (1.0 + 2.0 * scale * abs_max);
                }
            }
    return e;
}

// Self-attention: q, k, v, out dense [N,T,H,Dh].
inline Expected attention(const std::vector<float>& q, const std::vector<float>& k, const std::vector<float>& v,
                          int64_t N, int64_t T, int64_t H, int64_t Dh, double scale) {
    return attention_rows(q, k, v, N, T, T, H, Dh, scale);
}

// out[n,j] = (1/H) sum_h sum_i p_ij with p_i = softmax(q_i k^T * scale); q, k dense [N,T,H,Dh], out [N,T].
// magnitude = (1/H) sum_h sum_i p_ij (1 + 2 * scale * max_j sum_d |q_d k_jd|): each probability carries its fp32
// score error (own score and row maximum), the column sum adds the rounding of T * H positive terms.
inline Expected attention_key_mass(const std::vector<float>& q, const std::vector<float>& k, int64_t N, int64_t T,
                                   int64_t H, int64_t Dh, double scale) {
    Expected e = sized((size_t)(N * T));
    auto at = [&](int64_t n, int64_t t, int64_t h) { return (size_t)(((n * T + t) * H + h) * Dh); };
    std::vector<double> p((size_t)T);
    for (int64_t n = 0; n < N; ++n)
        for (int64_t h = 0; h < H; ++h)
            for (int64_t i = 0; i < T; ++i) {
                const double abs_max = softmax_row(&q[at(n, i, h)], &k[at(n, 0, h)], H * Dh, T, Dh, scale, p);
                for (int64_t j = 0; j < T; ++j) {
                    e.value[n * T + j] += p[j] / H;
                    e.magnitude[n * T + j] += p[j] / H * (1.0 + 2.0 * scale * abs_max);
                }
            }
    return e;
}

// dst[i,:] = src[index[i],:]; exact.
inline Expected gather_rows(const std::vector<float>& src, const std::vector<int32_t>& index, int64_t D) {
    Expected e = sized(index.size() * D);
    for (size_t i = 0; i < index.size(); ++i)
        for (int64_t c = 0; c < D; ++c) e.value[i * D + c] = src[index[i] * D + c];
    return e;
}

// dst[index[i],:] += g * src[i,:] in index order; g = gate[row_sample[i],:] or 1 (gate empty).
// magnitude = |dst| + sum of |g src| added to that element.
inline Expected scatter_add_rows(const std::vector<float>& dst, const std::vector<int32_t>& index,
                                 const std::vector<float>& src, const std::vector<float>& gate,
                                 const std::vector<int32_t>& row_sample, int64_t D) {
    Expected e = sized(dst.size());
    for (size_t o = 0; o < dst.size(); ++o) e.value[o] = dst[o], e.magnitude[o] = std::fabs(dst[o]);
    for (size_t i = 0; i < index.size(); ++i)
        for (int64_t c = 0; c < D; ++c) {
            const double g = gate.empty() ? 1.0 : gate[row_sample[i] * D + c];
            const size_t o = (size_t)(index[i] * D + c);
            e.value[o] += g * src[i * D + c];
            e.magnitude[o] += std::fabs(g * src[i * D + c]);
        }
    return e;
}

// out[n, i*gw+j, (c*p+a)*p+b] = x[n, c, i*p+a, j*p+b]; x dense [N,C,H,W]. A permutation: exact.
inline Expected patchify(const std::vector<float>& x, int64_t N, int64_t C, int64_t H, int64_t W, int64_t p) {
    const int64_t gh = H / p, gw = W / p, row = C * p * p;
    Expected e = sized(x.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t c = 0; c < C; ++c)
            for (int64_t y = 0; y < H; ++y)
                for (int64_t xx = 0; xx < W; ++xx) {
                    const int64_t tok = (y / p) * gw + xx / p, col = (c * p + y % p) * p + xx % p;
                    e.value[(n * gh * gw + tok) * row + col] = x[((n * C + c) * H + y) * W + xx];
                }
    return e;
}

// out[n, ch, i*p+a, j*p+b] = tokens[n, i*gw+j, (a*p+b)*Co + ch]; tokens dense. A permutation: exact.
inline Expected unpatchify(const std::vector<float>& tokens, int64_t N, int64_t Co, int64_t H, int64_t W,
                           int64_t p) {
    const int64_t gw = W / p, gh = H / p, row = p * p * Co;
    Expected e = sized(tokens.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t ch = 0; ch < Co; ++ch)
            for (int64_t y = 0; y < H; ++y)
                for (int64_t xx = 0; xx < W; ++xx) {
                    const int64_t tok = (y / p) * gw + xx / p, col = ((y % p) * p + xx % p) * Co + ch;
                    e.value[((n * Co + ch) * H + y) * W + xx] = tokens[(n * gh * gw + tok) * row + col];
                }
    return e;
}

// [cos(t f_k), sin(t f_k)] with f_k = exp(-ln(max_period) k / half), zero column for odd dim.
// magnitude = |t f_k| (1 + ln(max_period) k / half): the fp32 exponent, frequency and product each
// carry a relative rounding error, which cos/sin turn into an absolute error of that size.
inline Expected timestep_embedding(const std::vector<float>& t, int64_t dim, double max_period) {
    const int64_t half = dim / 2;
    Expected e = sized(t.size() * dim);
    for (size_t n = 0; n < t.size(); ++n)
        for (int64_t k = 0; k < half; ++k) {
            const double ex = std::log(max_period) * k / half, a = t[n] * std::exp(-ex);
            e.value[n * dim + k] = std::cos(a);
            e.value[n * dim + half + k] = std::sin(a);
            e.magnitude[n * dim + k] = e.magnitude[n * dim + half + k] = std::fabs(a) * (1 + ex);
        }
    return e;
}

// y[n,r,:] + b[r,:]; y dense [N,R,D]. magnitude = |y| + |b|.
inline Expected add_broadcast(const std::vector<float>& y, const std::vector<float>& b, int64_t N, int64_t RD) {
    Expected e = sized(y.size());
    for (int64_t n = 0; n < N; ++n)
        for (int64_t i = 0; i < RD; ++i) {
            e.value[n * RD + i] = (double)y[n * RD + i] + b[i];
            e.magnitude[n * RD + i] = std::fabs(y[n * RD + i]) + std::fabs(b[i]);
        }
    return e;
}

}  // namespace ddref
