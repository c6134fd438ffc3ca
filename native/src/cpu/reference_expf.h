// float32 exp exactly as the reference computes it; shared by the CPU backend (layout_ops.cpp) and the
// emulated test of the CUDA timestep-embedding kernel, which must agree with it bit for bit.
#pragma once
#include <cmath>

namespace dd {

// float32 exp as PyTorch's CPU kernels compute it (SLEEF's 1-ulp expf: q = rint(x / ln2), two-part ln2
// reduction, degree-6 polynomial, scale by 2^q), so the frequencies equal the reference bit for bit.
// Why it matters: the model multiplies them by t up to 999, which turns a 1-ulp frequency difference
// into ~3e-5 in the features and ~1e-3 in a sampled latent. Plain float ops (no FMA contraction in
// this baseline-ISA file); checked against the golden t_freq (1 ulp of cos/sin, see the tests).
inline float reference_expf(float x) {
    const float r_ln2 = 1.442695040888963407359924681001892137426645954152985934135449406931f;
    const float ln2_hi = 0.693145751953125f, ln2_lo = 1.428606765330187045e-06f;
    const int q = (int)std::nearbyint(x * r_ln2);
    float s = (float)q * -ln2_hi + x;
    s = (float)q * -ln2_lo + s;
    float u = 0.000198527617612853646278381f;
    u = u * s + 0.00139304355252534151077271f;
    u = u * s + 0.00833336077630519866943359f;
    u = u * s + 0.0416664853692054748535156f;
    u = u * s + 0.166666671633720397949219f;
    u = u * s + 0.5f;
    u = 1.0f + (s * s * u + s);
    return std::ldexp(u, q);
}

}  // namespace dd
