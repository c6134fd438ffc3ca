package io.dyndit.core;

import java.util.Locale;

/**
 * Arithmetic of matrix products on CUDA devices (codes match dd_precision). TF32 is the default, as PyTorch runs
 * DiT's official sampler; FP32 matches the CPU within float rounding; BF16 rounds operands to bfloat16. The CPU
 * always computes FP32.
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum Precision {
    FP32(0), TF32(1), BF16(2);

    private final int code;

    Precision(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** Parses "fp32", "tf32" or "bf16". */
    public static Precision parse(String text) {
        for (Precision p : values()) {
            if (p.name().equalsIgnoreCase(text.trim())) {
                return p;
            }
        }
        throw new InvalidArgumentException("unknown precision '" + text + "' (expected fp32, tf32 or bf16)");
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
