package io.dyndit.io;

/**
 * Element types a stored tensor can have, named as in the safetensors format.
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum DType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int byteSize;
    private final boolean floatingPoint;

    DType(int byteSize, boolean floatingPoint) {
        this.byteSize = byteSize;
        this.floatingPoint = floatingPoint;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    public boolean isFloatingPoint() {
        return floatingPoint;
    }

    /** The safetensors dtype string for this type ("F32", "BF16", ...). */
    public String safetensorsName() {
        return name();
    }

    /** Looks up a safetensors dtype string; null when the name is not one of the supported types. */
    public static DType fromSafetensorsName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        return null;
    }
}
