package io.dyndit.core;

/**
 * Element types, one enum for native tensors and stored checkpoints. The first five are native tensor types whose
 * codes match dd_dtype in dyndit.h; the rest exist only in files (safetensors names) and have no native code.
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum DType {
    F32(0, 4, true), BF16(1, 2, true), F16(2, 2, true), I32(3, 4, false), I64(4, 8, false),
    F64(-1, 8, true), I16(-1, 2, false), I8(-1, 1, false), U8(-1, 1, false), BOOL(-1, 1, false);

    private final int code;
    private final int size;
    private final boolean floatingPoint;

    DType(int code, int size, boolean floatingPoint) {
        this.code = code;
        this.size = size;
        this.floatingPoint = floatingPoint;
    }

    /** The dd_dtype code; throws DTypeMismatchException for a storage-only type, which no native tensor can hold. */
    public int code() {
        if (code < 0) {
            throw new DTypeMismatchException("dtype " + this + " has no native tensor type (native types: F32, BF16, "
                    + "F16, I32, I64); convert it first");
        }
        return code;
    }

    /** Whether native tensors can have this type. */
    public boolean isNative() {
        return code >= 0;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The safetensors dtype string for this type ("F32", "BF16", ...). */
    public String safetensorsName() {
        return name();
    }

    /** Looks up a safetensors dtype string; null when the name is not one of these types. */
    public static DType fromSafetensorsName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        return null;
    }

    public static DType ofCode(int code) {
        for (DType d : values()) {
            if (d.code >= 0 && d.code == code) {
                return d;
            }
        }
        throw new InvalidArgumentException("unknown dtype code " + code);
    }
}
