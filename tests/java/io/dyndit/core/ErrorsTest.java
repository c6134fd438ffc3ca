package io.dyndit.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.Test;

/** Bad input gives a typed exception naming what was wrong, and the JVM and library stay usable. */
class ErrorsTest {
    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    @Test
    void wrongShapeNamesTensorExpectedAndActual() {
        try (Scope s = Scope.open()) {
            Tensor x = s.zeros(Device.cpu(), DType.F32, 2, 5, 8);
            Tensor shift = s.zeros(Device.cpu(), DType.F32, 2, 7);
            Tensor y = s.empty(Device.cpu(), DType.F32, 2, 5, 8);
            ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                    () -> Ops.layerNormModulate(x, shift, null, 1e-6f, y));
            assertMentions(e, "dd_layernorm_modulate", "'shift'", "[2,7]", "[2,8]");
            Tensor w = s.zeros(Device.cpu(), DType.F32, 4, 9);
            Tensor out = s.empty(Device.cpu(), DType.F32, 2, 5, 4);
            e = assertThrows(ShapeMismatchException.class, () -> Ops.linear(x, w, null, out));
            assertMentions(e, "'w'", "[4,9]", "[*,8]");
        }
    }

    @Test
    void wrongDtypeIsTyped() {
        try (Scope s = Scope.open()) {
            Tensor x = s.ofInts(Device.cpu(), new int[] {1, 2, 3}, 3);
            Tensor y = s.empty(Device.cpu(), DType.F32, 3);
            DTypeMismatchException e = assertThrows(DTypeMismatchException.class, () -> Ops.geluTanh(x, y));
            assertMentions(e, "'x'", "i32", "f32");
        }
    }

    @Test
    void outOfRangeIndexIsRejectedBeforeAnyWrite() {
        try (Scope s = Scope.open()) {
            Tensor dst = s.of(Device.cpu(), new float[] {1, 2, 3, 4}, 2, 2);
            Tensor idx = s.ofInts(Device.cpu(), new int[] {0, 2}, 2);
            Tensor src = s.of(Device.cpu(), new float[] {9, 9, 9, 9}, 2, 2);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Ops.scatterAddRows(dst, idx, src, null, null));
            assertMentions(e, "'index'[1] = 2", "[0, 2)");
            assertArrayEquals(new float[] {1, 2, 3, 4}, dst.toFloatArray());
        }
    }

    @Test
    void cudaRequestWithoutGpuCarriesCudasReason() {
        Device cuda = Device.cuda(0);
        assumeFalse(cuda.isAvailable(), "a GPU machine: nothing to refuse (gpuIsUsableWhereProbed covers it)");
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, cuda::checkAvailable);
        String info = LibraryInfo.query().cudaCompiled() ? "CUDA" : "without CUDA";
        assertMentions(e, "cuda:0", info);
        assertThrows(DeviceUnavailableException.class, () -> Tensor.empty(cuda, DType.F32, 4));
        // the emulated device is part of every build with CUDA headers, GPU or not
        Device.cudaEmulated().checkAvailable();
    }

    /** Where a GPU answers the probe, it is usable: tensors round-trip and an op error on it is typed. */
    @Test
    void gpuIsUsableWhereProbed() {
        Device cuda = Device.cuda(0);
        assumeTrue(cuda.isAvailable(), "no usable CUDA device here (cudaRequestWithoutGpuCarriesCudasReason covers it)");
        cuda.checkAvailable();
        try (Scope s = Scope.open()) {
            Tensor t = s.of(cuda, new float[] {1, -2, 3}, 3);
            assertArrayEquals(new float[] {1, -2, 3}, t.toFloatArray());
            Tensor wrong = s.empty(cuda, DType.F32, 4);
            assertThrows(ShapeMismatchException.class, () -> Ops.silu(t, wrong));
        }
    }

    @Test
    void jvmAndLibrarySurviveManyNativeErrors() {
        try (Scope s = Scope.open()) {
            Tensor x = s.of(Device.cpu(), new float[] {-1, 0, 1}, 3);
            Tensor bad = s.empty(Device.cpu(), DType.F32, 4);
            for (int i = 0; i < 1000; i++) {
                assertThrows(ShapeMismatchException.class, () -> Ops.silu(x, bad));
            }
            Tensor y = s.empty(Device.cpu(), DType.F32, 3);
            Ops.silu(x, y);
            float[] got = y.toFloatArray();
            assertTrue(Math.abs(got[2] - Reference.silu(1)) < 1e-6 && got[1] == 0f);
        }
    }

    @Test
    void badArgumentsOnTheJavaSide() {
        assertThrows(ShapeMismatchException.class, () -> Tensor.empty(Device.cpu(), DType.F32, 2, -1));
        assertThrows(ShapeMismatchException.class, () -> Tensor.of(new float[3], 2, 2));
        assertThrows(InvalidArgumentException.class, () -> Device.parse("tpu"));
        assertThrows(InvalidArgumentException.class, () -> Device.parse("cuda:x"));
    }

    @Test
    void unknownPrecisionIsNamed() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Precision.parse("fp8"));
        assertMentions(e, "fp8", "tf32");
        assertEquals(Precision.BF16, Precision.parse(" BF16 "));
        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        int code = io.dyndit.cli.Main.run(new String[] {"forward", "--weights", "w.pt", "--inputs", "i.safetensors",
            "--out", "o.safetensors", "--precision", "fp8"}, new java.io.PrintStream(new java.io.ByteArrayOutputStream()),
                new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
        assertEquals(2, code); // a bad option value is a usage error, reported before any file is read
        assertTrue(err.toString(java.nio.charset.StandardCharsets.UTF_8).contains("fp8"), err.toString());
    }
}
