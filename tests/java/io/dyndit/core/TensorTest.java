package io.dyndit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class TensorTest {
    @Test
    void roundTripsValuesAndReportsShape() {
        TestData d = new TestData();
        float[] a = d.gaussian(2 * 3 * 5, 1);
        try (Tensor t = Tensor.of(a, 2, 3, 5)) {
            assertArrayEquals(new long[] {2, 3, 5}, t.shape());
            assertArrayEquals(new long[] {15, 5, 1}, t.strides());
            assertEquals(DType.F32, t.dtype());
            assertEquals(Device.cpu(), t.device());
            assertTrue(t.isContiguous());
            assertArrayEquals(a, t.toFloatArray());
        }
        long[] l = {Long.MAX_VALUE, -3, 7};
        try (Tensor t = Tensor.ofLongs(Device.cpu(), l, 3)) {
            assertArrayEquals(l, t.toLongArray());
        }
    }

    @Test
    void narrowAndViewsSeeTheSameMemory() {
        float[] a = new float[4 * 6];
        for (int i = 0; i < a.length; i++) a[i] = i + 0.5f;
        try (Scope s = Scope.open()) {
            Tensor t = s.of(Device.cpu(), a, 4, 6);
            Tensor cols = s.track(t.narrow(1, 2, 3));
            assertFalse(cols.isContiguous());
            float[] got = cols.toFloatArray();
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 3; c++) assertEquals(a[r * 6 + c + 2], got[r * 3 + c]);
            Tensor transposed = s.track(t.view(new long[] {6, 4}, new long[] {1, 6}, 0));
            float[] tr = transposed.toFloatArray();
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 4; c++) assertEquals(a[c * 6 + r], tr[r * 4 + c]);
            Tensor flat = s.track(t.reshape(-1));
            assertArrayEquals(new long[] {24}, flat.shape());
            assertThrows(InvalidArgumentException.class, () -> cols.reshape(12));
            assertThrows(ShapeMismatchException.class, () -> t.reshape(5, -1));
        }
    }

    /** Column and transposed views of a device tensor come to the host through the span they cover. */
    @Test
    void nonContiguousDeviceViewsCopyToTheHost() {
        TestData d = new TestData();
        float[] a = d.gaussian(4 * 6, 1);
        try (Scope s = Scope.open()) {
            Tensor t = s.of(Device.cudaEmulated(), a, 4, 6);
            Tensor cols = s.track(t.narrow(1, 2, 3));
            assertFalse(cols.isContiguous());
            float[] got = cols.toFloatArray();
            for (int r = 0; r < 4; r++)
                for (int c = 0; c < 3; c++) assertEquals(a[r * 6 + c + 2], got[r * 3 + c]);
            Tensor transposed = s.track(t.view(new long[] {6, 4}, new long[] {1, 6}, 0));
            Tensor back = s.track(transposed.to(Device.cudaEmulated()));
            assertTrue(back.isContiguous());
            float[] tr = back.toFloatArray();
            for (int r = 0; r < 6; r++)
                for (int c = 0; c < 4; c++) assertEquals(a[c * 6 + r], tr[r * 4 + c]);
        }
    }

    @Test
    void viewOutlivesItsBase() {
        float[] a = {1, 2, 3, 4, 5, 6};
        Tensor base = Tensor.of(a, 6);
        Tensor tail = base.narrow(0, 3, 3);
        base.close();
        try (tail) {
            assertArrayEquals(new float[] {4, 5, 6}, tail.toFloatArray());
        }
    }

    @Test
    void viewOutsideStorageIsRejected() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 4)) {
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> t.view(new long[] {3}, new long[] {2}, 0));
            assertTrue(e.getMessage().contains("outside the storage"), e.getMessage());
            assertThrows(InvalidArgumentException.class, () -> t.narrow(0, 3, 2));
        }
    }

    @Test
    void halfPrecisionConversionsRoundToNearestEven() {
        // exactly representable values survive; 1 + 2^-8 is a bf16 tie that rounds to even (1.0),
        // 1 + 3*2^-9 rounds up to 1 + 2^-7; 65504 is the largest f16; 1e-7 is an f16 subnormal (~1.19e-7).
        float[] v = {1f, -2.5f, 1f + 1f / 256, 1f + 3f / 512, 65504f, 1e-7f};
        try (Tensor t = Tensor.of(v, 6); Tensor bf = t.convert(DType.BF16); Tensor h = t.convert(DType.F16)) {
            assertArrayEquals(new float[] {1f, -2.5f, 1f, 1f + 1f / 128, 65536f, bf16(1e-7f)}, bf.toFloatArray());
            assertArrayEquals(new float[] {1f, -2.5f, 1f + 1f / 256, 1f + 3f / 512, 65504f, 2 * 5.9604645e-8f},
                    h.toFloatArray());
        }
    }

    private static float bf16(float f) { // reference rounding: nearest even on the upper 16 bits
        int u = Float.floatToRawIntBits(f);
        u += 0x7fff + ((u >>> 16) & 1);
        return Float.intBitsToFloat(u & 0xffff0000);
    }

    @Test
    void closeIsIdempotentAndUseAfterCloseIsTyped() {
        Tensor t = Tensor.of(new float[] {1, 2}, 2);
        t.close();
        t.close();
        assertTrue(t.isClosed());
        TensorClosedException e = assertThrows(TensorClosedException.class, t::toFloatArray);
        assertTrue(e.getMessage().contains("after close"), e.getMessage());
        try (Tensor y = Tensor.empty(Device.cpu(), DType.F32, 2)) {
            assertThrows(TensorClosedException.class, () -> Ops.silu(t, y));
        }
    }

    @Test
    void scopeClosesEverythingItCreated() {
        Tensor a, b, v;
        try (Scope s = Scope.open()) {
            a = s.zeros(Device.cpu(), DType.F32, 3, 3);
            b = s.ofInts(Device.cpu(), new int[] {1, 2}, 2);
            v = s.track(a.narrow(0, 1, 1));
            assertEquals(3, s.size());
            assertArrayEquals(new float[9], a.toFloatArray());
        }
        assertTrue(a.isClosed() && b.isClosed() && v.isClosed());
    }

    /** On cuda-emu each cycle also runs an op and captures, replays and frees a CUDA graph. */
    @org.junit.jupiter.params.ParameterizedTest(name = "on {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"cpu", "cuda-emu"})
    void thousandsOfAllocationsDoNotLeak(String device) throws Exception {
        // 4 MiB per tensor x 3000 = 12 GiB if leaked; resident memory must stay far below that.
        Device d = Device.parse(device);
        System.gc();
        long before = residentKiB();
        for (int i = 0; i < 3000; i++) {
            try (Scope s = Scope.open()) {
                Tensor t = s.zeros(d, DType.F32, 1024, 1024);
                Tensor small = s.track(s.track(t.narrow(0, 1, 1)).reshape(1024)), out = s.empty(d, DType.F32, 1024);
                Ops.silu(small, out);
                if (d.isCuda()) {
                    try (CudaGraph g = CudaGraph.capture(d, () -> Ops.relu(small, out))) {
                        g.launch();
                    }
                }
            }
        }
        System.gc();
        long grown = residentKiB() - before;
        assertTrue(grown < 512 * 1024, "resident memory grew by " + grown + " KiB over 3000 cycles");
    }

    private static long residentKiB() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
