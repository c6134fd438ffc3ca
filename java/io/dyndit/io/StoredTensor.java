package io.dyndit.io;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.Checksum;

/**
 * One named tensor as stored in a checkpoint: element type, shape and exactly its little-endian bytes in row-major
 * order. Tensors read from files hold only their place in the file, so nothing is read until {@link #data()} or one
 * of the {@code to*Array()} conversions is called. Those read the bytes into the Java heap with ordinary reads, never
 * through the memory mapping: no code, native or Java, can fault on a file that was truncated after it was opened
 * (that becomes a {@link CheckpointChangedException}).
 *
 * <p>Thread-safety: immutable, safe to share; every {@link #data()} or conversion call reads on its own (a file
 * tensor through its own file channel), so calls from many threads may run at once.
 */
public final class StoredTensor {
    private static final int MAX_JAVA_ARRAY = Integer.MAX_VALUE - 8;

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final long elementCount;
    /** The bytes when in memory; null for a file-backed tensor. */
    private final ByteBuffer data;
    /** The file holding the bytes at {@code offset}, or null when they are in memory. */
    private final ByteSource source;
    private final long offset;
    private final long length;
    /** Checks the bytes while they are copied out of the file (a .pt storage's CRC-32), or null. */
    private final Integrity integrity;

    /** Verifies a file-backed tensor's bytes as they stream past during a copy. */
    interface Integrity {
        /** A checksum to feed this tensor's bytes to, in order; null when nothing (more) needs checking. */
        Checksum begin(String tensor);

        /** Compares what {@code fed} saw against the file's record; throws CheckpointFormatException if it differs. */
        void end(Checksum fed, String tensor);
    }

    private StoredTensor(String name, DType dtype, long[] shape, long elementCount, ByteBuffer data, ByteSource source,
            long offset, long length, Integrity integrity) {
        this.name = name;
        this.dtype = dtype;
        this.shape = shape;
        this.elementCount = elementCount;
        this.data = data;
        this.source = source;
        this.offset = offset;
        this.length = length;
        this.integrity = integrity;
    }

    /**
     * Wraps existing bytes (position to limit of {@code bytes}) as a tensor. The bytes must be little-endian and their
     * count must equal the element count times the dtype size.
     */
    public static StoredTensor of(String name, DType dtype, long[] shape, ByteBuffer bytes) {
        long[] dims = shape.clone();
        long count = checkedCount(name, dtype, dims, bytes.remaining());
        ByteBuffer view = bytes.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        return new StoredTensor(name, dtype, dims, count, view, null, 0, view.capacity(), null);
    }

    /**
     * A tensor whose {@code length} bytes lie at {@code offset} in {@code source} (already range-checked), read on
     * demand; {@code integrity}, when not null, checks them as they are read.
     */
    static StoredTensor inFile(String name, DType dtype, long[] shape, ByteSource source, long offset, long length,
            Integrity integrity) {
        long[] dims = shape.clone();
        long count = checkedCount(name, dtype, dims, length);
        return new StoredTensor(name, dtype, dims, count, null, source, offset, length, integrity);
    }

    /** The element count of {@code dims}, after checking that {@code bytes} is exactly what they need. */
    private static long checkedCount(String name, DType dtype, long[] dims, long bytes) {
        long count = elementCountOf(dims);
        if (count < 0) {
            throw new CheckpointException("tensor '" + name + "': invalid shape " + Shapes.describe(dims)
                    + " (negative dimension or element count overflows a long)");
        }
        long expectedBytes;
        try {
            expectedBytes = Math.multiplyExact(count, dtype.size());
        } catch (ArithmeticException e) {
            throw new CheckpointException("tensor '" + name + "': shape " + Shapes.describe(dims) + " is too large");
        }
        if (bytes != expectedBytes) {
            throw new CheckpointException("tensor '" + name + "': " + bytes + " bytes given, but shape "
                    + Shapes.describe(dims) + " of " + dtype + " needs " + expectedBytes);
        }
        return count;
    }

    /** The same bytes (still file-backed, still checked) under another name and a shape of the same size. */
    StoredTensor reshaped(String newName, long[] newShape) {
        long[] dims = newShape.clone();
        long count = checkedCount(newName, dtype, dims, length);
        return new StoredTensor(newName, dtype, dims, count, data, source, offset, length, integrity);
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
        return length;
    }

    /**
     * The tensor's bytes, read-only and little-endian, positioned at 0 with limit = byte size. For a tensor read from
     * a file this is a fresh heap copy (never the file mapping, so it is safe to hand to native code); throws
     * {@link CheckpointChangedException} when the file was truncated after it was opened, and
     * {@link CheckpointFormatException} when the bytes fail the file's checksum.
     */
    public ByteBuffer data() {
        if (source == null) {
            return data.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        }
        if (length > MAX_JAVA_ARRAY) {
            throw new CheckpointException(source.name() + ": tensor '" + name + "' has " + length
                    + " bytes, more than one Java array can hold");
        }
        byte[] out = new byte[(int) length];
        Checksum checksum = integrity == null ? null : integrity.begin(name);
        source.read(offset, out, 0, out.length, checksum, "tensor '" + name + "'");
        if (checksum != null) {
            integrity.end(checksum, name);
        }
        return ByteBuffer.wrap(out).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
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
        return name + " " + dtype + Shapes.describe(shape);
    }
}
