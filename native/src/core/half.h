// bf16 / f16 <-> f32 conversions, round to nearest even (as PyTorch and CUDA do).
#pragma once
#include <cstdint>
#include <cstring>

namespace dd {

inline uint32_t f32_bits(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

inline uint16_t f32_to_bf16(float f) {
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);  // quiet NaN
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}
inline float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

inline uint16_t f32_to_f16(float f) {
    uint32_t u = f32_bits(f);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint16_t)(sign | 0x7e00u);           // NaN
    if (a >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);          // overflow (rounds to inf) or inf
    if (a < 0x38800000u) {                                            // subnormal or zero in f16
        // value = a as float; f16 subnormal unit = 2^-24. Round half to even via float addition trick.
        float v = bits_f32(a) + 0.5f;                                 // 0.5 = 2^-1: shifts mantissa so ulp = 2^-24
        return (uint16_t)(sign | (f32_bits(v) - 0x3f000000u));
    }
    uint32_t mant_odd = (a >> 13) & 1u;
    a += 0xc8000fffu + mant_odd;  // rebias exponent (-112 << 23) and round
    return (uint16_t)(sign | (a >> 13));
}

inline float f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        float v = (float)m * (1.0f / 16777216.0f);  // m * 2^-24
        return bits_f32(f32_bits(v) | sign);
    }
    if (e == 31) return bits_f32(sign | 0x7f800000u | (m << 13));
    return bits_f32(sign | ((e + 112) << 23) | (m << 13));
}

}  // namespace dd
