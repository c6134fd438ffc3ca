// The one comparison of the suite: fp32 output of the library against the double reference.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <vector>

#include "reference.h"

namespace ddtest {

// How far a result may be from the reference: |got - ref| <= per_magnitude * magnitude + rtol * |ref| + atol.
// Each test states why its numbers bound the fp32 error of the op it checks.
struct Tolerance {
    double rtol = 0;
    double per_magnitude = 0;
    double atol = 0;
};

// Reduced-precision products on a CUDA device (dd_set_gemm_precision TF32 / BF16). The kernels round each
// operand to nearest once (cvt.rna.tf32 / __float2bfloat16_rn): relative error <= u, u = 2^-11 for tf32 (10
// explicit mantissa bits) and 2^-8 for bf16 (7 bits). The product of two rounded operands is exact in fp32
// (at most 22 significant bits) and within (2u + u^2) |x w| of the exact product; the tensor core adds in
// fp32 but may truncate instead of round, so each of the K additions (and the bias) costs up to 2^-23 of
// sum |terms|. Worst case, any order: |err| <= (2u + u^2 + (K + 1) 2^-23) * sum |x w| + |bias| terms.
// `u` = 0 (fp32 operands, nothing rounded): the test's own fp32 tolerance `fp32` is returned unchanged.
inline double tf32_unit_roundoff() { return std::ldexp(1.0, -11); }
inline double bf16_unit_roundoff() { return std::ldexp(1.0, -8); }
inline Tolerance rounded_operand_gemm(double u, int64_t K, Tolerance fp32) {
    if (u == 0) return fp32;
    return {fp32.rtol, 2 * u + u * u + (double)(K + 1) * std::ldexp(1.0, -23), fp32.atol};
}

// Passes when every element is within tolerance (NaN never is); otherwise reports how many were not
// and the worst five, with their reference, magnitude and allowed error.
inline testing::AssertionResult AllClose(const std::vector<float>& got, const ddref::Expected& want, Tolerance tol) {
    if (got.size() != want.value.size())
        return testing::AssertionFailure() << "size " << got.size() << " != reference size " << want.value.size();
    struct Miss {
        size_t i;
        double excess;
    };
    std::vector<Miss> misses;
    for (size_t i = 0; i < got.size(); ++i) {
        const double ref = want.value[i];
        const double allowed = tol.per_magnitude * want.magnitude[i] + tol.rtol * std::fabs(ref) + tol.atol;
        const double err = std::fabs((double)got[i] - ref);
        if (!(err <= allowed)) misses.push_back({i, std::isnan(err) ? INFINITY : err / allowed});
    }
    if (misses.empty()) return testing::AssertionSuccess();
    std::sort(misses.begin(), misses.end(), [](const Miss& a, const Miss& b) { return a.excess > b.excess; });
    std::ostringstream os;
    os.precision(9);
    os << misses.size() << " of " << got.size() << " elements outside tolerance; worst:";
    for (size_t m = 0; m < std::min<size_t>(5, misses.size()); ++m) {
        const size_t i = misses[m].i;
        os << "\n  [" << i << "] got " << got[i] << " ref " << want.value[i] << " |err| "
           << std::fabs((double)got[i] - want.value[i]) << " magnitude " << want.magnitude[i] << " ("
           << misses[m].excess << "x allowed)";
    }
    return testing::AssertionFailure() << os.str();
}

// Every element not marked `inside` still equals `before`: the op wrote only where its output view points.
inline testing::AssertionResult UntouchedOutside(const std::vector<float>& got, const std::vector<float>& before,
                                                 const std::vector<bool>& inside) {
    for (size_t i = 0; i < got.size(); ++i)
        if (!inside[i] && !(got[i] == before[i] || (std::isnan(got[i]) && std::isnan(before[i]))))
            return testing::AssertionFailure() << "element " << i << " outside the output view changed from "
                                               << before[i] << " to " << got[i];
    return testing::AssertionSuccess();
}

// h + gate * r for h [N*T, D], gate [N, D] (empty: 1) and a product r with its bound g: r's error scaled by |gate|,
// and the fp32 multiply-add's own rounding (2 ulps of its terms, expressed per unit of g.per_magnitude).
inline ddref::Expected gated_residual(const std::vector<float>& hs, const std::vector<float>& gs,
                                      const ddref::Expected& r, int64_t T, int64_t D, const Tolerance& g) {
    ddref::Expected want = ddref::sized(hs.size());
    for (size_t o = 0; o < hs.size(); ++o) {
        const int64_t m = (int64_t)o / D, j = (int64_t)o % D;
        const double gv = gs.empty() ? 1.0 : gs[(size_t)((m / T) * D + j)];
        want.value[o] = hs[o] + gv * r.value[o];
        want.magnitude[o] =
            std::fabs(gv) * r.magnitude[o] + (std::fabs(gv * r.value[o]) + std::fabs(hs[o])) / g.per_magnitude * 1.2e-7;
    }
    return want;
}

}  // namespace ddtest
