package io.dyndit.core;

/**
 * Element types of native tensors; codes match dd_dtype in dyndit.h.
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum DType {
    F32(0, 4), BF16(1, 2), F16(2, 2), I32(3, 4), I64(4, 8);

    private final int code;
    private final int size;

    DType(int code, int size) {
        this.code = code;
        this.size = size;
    }

    public int code() {
        return code;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public boolean isFloatingPoint() {
        return this == F32 || this == BF16 || this == F16;
    }

    public static DType ofCode(int code) {
        for (DType d : values()) {
            if (d.code == code) {
                return d;
            }
        }
        throw new InvalidArgumentException("unknown dtype code " + code);
    }
}
