package io.dyndit.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * One named tensor as stored in a checkpoint: element type, shape and exactly its little-endian bytes in row-major
 * order. Tensors read from files hold a read-only slice of the file's memory map, so nothing is copied until one of
 * the {@code to*Array()} conversions is called.
 *
 * <p>Thread-safety: immutable (data() hands out a fresh view of read-only bytes), safe to share.
 */
public final class StoredTensor {
    private static final int MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long elementCount;
    private final ByteBuffer data;

    private StoredTensor(String name, DType dtype, long[] shape, long elementCount, ByteBuffer data) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.elementCount = elementCount;
        this.data = data;
    }

    /**
     * Wraps existing bytes (position to limit of {@code bytes}) as a tensor. The bytes must be little-endian and their
     * count must equal the element count times the dtype size.
     */
    public static StoredTensor of(String name, DType dtype, long[] shape, ByteBuffer bytes) {
        long[] dims = shape.clone();
        long count = elementCountOf(dims);
        if (count < 0) {
            throw new CheckpointException("tensor '" + name + "': invalid shape " + Arrays.toString(dims)
                    + " (negative dimension or element count overflows a long)");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(count, dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new CheckpointException("tensor '" + name + "': shape " + Arrays.toString(dims) + " is too large");
        }
        if (bytes.remaining() != expectedBytes) {
            throw new CheckpointException("tensor '" + name + "': " + bytes.remaining() + " bytes given, but shape "
                    + Arrays.toString(dims) + " of " + dtype + " needs " + expectedBytes);
        }
        ByteBuffer view = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new StoredTensor(name, dtype, dims, count, view);
    }

    public static StoredTensor ofFloats(String name, long[] shape, float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, 4)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return of(name, DType.F32, shape, bytes);
    }

    public static StoredTensor ofDoubles(String name, long[] shape, double[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asDoubleBuffer().put(values);
        return of(name, DType.F64, shape, bytes);
    }

    public static StoredTensor ofLongs(String name, long[] shape, long[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(Math.multiplyExact(values.length, 8)).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asLongBuffer().put(values);
        return of(name, DType.I64, shape, bytes);
    }

    /** Product of the dimensions (1 for a scalar), or -1 for a negative dimension or a product that overflows. */
    static long elementCountOf(long[] shape) {
        long count = 1;
        for (long dim : shape) {
            if (dim < 0) {
                return -1;
            }
            try {
                count = Math.multiplyExact(count, dim);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return count;
    }

    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    /** A copy of the shape; empty for a scalar. */
    public long[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long elementCount() {
        return elementCount;
    }

    public long byteSize() {
        return (long) data.capacity();
    }

    /** A fresh read-only little-endian view of the tensor's bytes, positioned at 0 with limit = byte size. */
    public ByteBuffer data() {
        return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** The values as floats; F16, BF16 and F64 are converted (F64 rounds to nearest). */
    public float[] toFloatArray() {
        ByteBuffer in = data();
        float[] out = new float[arrayLength()];
        switch (dtype) {
            case F32 -> in.asFloatBuffer().get(out);
            case F64 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = (float) in.getDouble(i * 8);
                }
            }
            case F16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfPrecision.float16ToFloat(in.getShort(i * 2));
                }
            }
            case BF16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = HalfPrecision.bfloat16ToFloat(in.getShort(i * 2));
                }
            }
            default -> throw wrongType("float");
        }
        return out;
    }

    /** The values as doubles, exact for every floating-point dtype. */
    public double[] toDoubleArray() {
        ByteBuffer in = data();
        double[] out = new double[arrayLength()];
        if (dtype == DType.F64) {
            in.asDoubleBuffer().get(out);
            return out;
        }
        if (!dtype.isFloatingPoint()) {
            throw wrongType("double");
        }
        float[] floats = toFloatArray();
        for (int i = 0; i < out.length; i++) {
            out[i] = floats[i];
        }
        return out;
    }

    /** The values as longs, for the integer and bool dtypes (U8 is read unsigned, BOOL as 0/1). */
    public long[] toLongArray() {
        ByteBuffer in = data();
        long[] out = new long[arrayLength()];
        switch (dtype) {
            case I64 -> in.asLongBuffer().get(out);
            case I32 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = in.getInt(i * 4);
                }
            }
            case I16 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = in.getShort(i * 2);
                }
            }
            case I8 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = in.get(i);
                }
            }
            case U8 -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = in.get(i) & 0xFF;
                }
            }
            case BOOL -> {
                for (int i = 0; i < out.length; i++) {
                    out[i] = in.get(i) != 0 ? 1 : 0;
                }
            }
            default -> throw wrongType("long");
        }
        return out;
    }

    private int arrayLength() {
        if (elementCount > MAX_JAVA_ARRAY) {
            throw new CheckpointException("tensor '" + name + "' has " + elementCount
                    + " elements, more than a Java array can hold; read it through data()");
        }
        return (int) elementCount;
    }

    private CheckpointException wrongType(String target) {
        return new CheckpointException("tensor '" + name + "' has dtype " + dtype + ", which does not convert to "
                + target + " values");
    }

    @Override
    public String toString() {
        return name + " " + dtype + Arrays.toString(shape);
    }
}
