package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import io.dyndit.core.DTypeMismatchException;
import io.dyndit.core.InvalidArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class StoredTensorTest {
    @Test
    void dtypeSizes() {
        assertEquals(8, DType.F64.size());
        assertEquals(4, DType.F32.size());
        assertEquals(2, DType.F16.size());
        assertEquals(2, DType.BF16.size());
        assertEquals(8, DType.I64.size());
        assertEquals(4, DType.I32.size());
        assertEquals(2, DType.I16.size());
        assertEquals(1, DType.I8.size());
        assertEquals(1, DType.U8.size());
        assertEquals(1, DType.BOOL.size());
        assertEquals(DType.BF16, DType.fromSafetensorsName("BF16"));
        assertEquals(null, DType.fromSafetensorsName("f32"));
    }

    /** Native codes are the dd_dtype values of dyndit.h; storage-only types refuse code() naming themselves. */
    @Test
    void oneDTypeForNativeAndStoredTypes() {
        long[][] codes = {{0, 4}, {1, 2}, {2, 2}, {3, 4}, {4, 8}};
        DType[] natives = {DType.F32, DType.BF16, DType.F16, DType.I32, DType.I64};
        for (int i = 0; i < natives.length; i++) {
            assertTrue(natives[i].isNative());
            assertEquals(codes[i][0], natives[i].code());
            assertEquals(codes[i][1], natives[i].size());
            assertEquals(natives[i], DType.ofCode((int) codes[i][0]));
        }
        for (DType stored : new DType[] {DType.F64, DType.I16, DType.I8, DType.U8, DType.BOOL}) {
            assertFalse(stored.isNative());
            DTypeMismatchException e = assertThrows(DTypeMismatchException.class, stored::code);
            assertTrue(e.getMessage().contains(stored.name()), e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> DType.ofCode(-1));
        assertThrows(InvalidArgumentException.class, () -> DType.ofCode(5));
        assertTrue(DType.F64.isFloatingPoint());
        assertFalse(DType.I32.isFloatingPoint());
    }

    @Test
    void halfPrecisionConvertsExactly() {
        StoredTensor half = tensor(DType.F16, 0x3C00, 0xC000, 0x7BFF, 0x0001, 0x03FF, 0x7C00, 0xFC00, 0x8000, 0x3555);
        float[] values = half.toFloatArray();
        assertEquals(1.0f, values[0]);
        assertEquals(-2.0f, values[1]);
        assertEquals(65504.0f, values[2]);
        assertEquals(0x1p-24f, values[3]);
        assertEquals(1023 * 0x1p-24f, values[4]);
        assertEquals(Float.POSITIVE_INFINITY, values[5]);
        assertEquals(Float.NEGATIVE_INFINITY, values[6]);
        assertEquals(Float.floatToRawIntBits(-0.0f), Float.floatToRawIntBits(values[7]));
        assertEquals(0.33325195f, values[8]);
        assertTrue(Float.isNaN(tensor(DType.F16, 0x7E00).toFloatArray()[0]));
    }

    @Test
    void bfloat16IsTheUpperHalfOfAFloat() {
        float[] values = tensor(DType.BF16, 0x3F80, 0xC040, 0x7F80).toFloatArray();
        assertArrayEquals(new float[] {1.0f, -3.0f, Float.POSITIVE_INFINITY}, values);
    }

    @Test
    void integerConversions() {
        ByteBuffer bytes = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(-5).putInt(7).putInt(1 << 30);
        StoredTensor ints = StoredTensor.of("i", DType.I32, new long[] {3}, bytes.flip());
        assertArrayEquals(new long[] {-5, 7, 1 << 30}, ints.toLongArray());
        StoredTensor bytesU8 = StoredTensor.of("u", DType.U8, new long[] {2}, ByteBuffer.wrap(new byte[] {-1, 3}));
        assertArrayEquals(new long[] {255, 3}, bytesU8.toLongArray());
        StoredTensor bools = StoredTensor.of("b", DType.BOOL, new long[] {2}, ByteBuffer.wrap(new byte[] {0, 1}));
        assertArrayEquals(new long[] {0, 1}, bools.toLongArray());
    }

    @Test
    void factoriesAndViews() {
        StoredTensor t = StoredTensor.ofDoubles("d", new long[] {2, 1}, new double[] {0.1, -2.5});
        assertEquals(2, t.elementCount());
        assertEquals(16, t.byteSize());
        assertArrayEquals(new float[] {0.1f, -2.5f}, t.toFloatArray());
        assertArrayEquals(new double[] {0.1, -2.5}, t.toDoubleArray());
        assertTrue(t.data().isReadOnly());
        assertEquals(ByteOrder.LITTLE_ENDIAN, t.data().order());
        StoredTensor scalar = StoredTensor.ofLongs("s", new long[0], new long[] {42});
        assertEquals(1, scalar.elementCount());
        assertEquals(0, scalar.rank());
        long[] shape = t.shape();
        shape[0] = 99;
        assertEquals(2, t.shape()[0], "shape() must return a copy");
    }

    @Test
    void mismatchesAreTypedErrors() {
        CheckpointException size = assertThrows(CheckpointException.class,
                () -> StoredTensor.ofFloats("w", new long[] {3}, new float[2]));
        assertTrue(size.getMessage().contains("'w'"), size.getMessage());
        CheckpointException type = assertThrows(CheckpointException.class,
                () -> StoredTensor.ofFloats("w", new long[] {2}, new float[2]).toLongArray());
        assertTrue(type.getMessage().contains("F32"), type.getMessage());
        assertThrows(CheckpointException.class,
                () -> StoredTensor.ofLongs("l", new long[] {1}, new long[1]).toFloatArray());
        assertThrows(CheckpointException.class,
                () -> StoredTensor.of("n", DType.F32, new long[] {-1}, ByteBuffer.allocate(0)));
    }

    private static StoredTensor tensor(DType dtype, int... halves) {
        ByteBuffer bytes = ByteBuffer.allocate(halves.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int h : halves) {
            bytes.putShort((short) h);
        }
        return StoredTensor.of("h", dtype, new long[] {halves.length}, bytes.flip());
    }
}
