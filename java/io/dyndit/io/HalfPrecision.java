package io.dyndit.io;

/** Bit-exact widening of the 16-bit float formats (IEEE half and bfloat16) to float. */
final class HalfPrecision {
    private HalfPrecision() {
    }

    /** bfloat16 is the upper half of a float32, so widening is a shift. */
    static float bfloat16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** IEEE 754 binary16 to binary32, including subnormals, infinities and NaN payloads. */
    static float float16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exponent = (h >>> 10) & 0x1F;
        int mantissa = h & 0x3FF;
        if (exponent == 0x1F) {
            return Float.intBitsToFloat(sign | 0x7F800000 | (mantissa << 13));
        }
        if (exponent != 0) {
            return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
        }
        if (mantissa == 0) {
            return Float.intBitsToFloat(sign);
        }
        // Subnormal half: value = mantissa * 2^-24, exactly representable as a normal float.
        float magnitude = mantissa * 0x1p-24f;
        return sign != 0 ? -magnitude : magnitude;
    }
}
