package io.dyndit.model;

import io.dyndit.testing.Bf16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dyndit.core.DeviceMismatchException;
import io.dyndit.core.Device;
import io.dyndit.core.DType;
import io.dyndit.core.Ops;
import io.dyndit.core.Precision;
import io.dyndit.core.Ranges;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import io.dyndit.core.UnsupportedOnDeviceException;
import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The CUDA backend's host code as Java drives it: on "cuda-emu" (the same backend built against the SIMT emulator)
 * always, on a real GPU when one exists. The golden tests run on cuda-emu too (with FP32 GEMMs); this covers the
 * precision switch, profiler ranges and errors.
 */
class CudaBackendTest {
    private static final String CASE = "dit_p2_d64_h4";

    private static float[] goldenForward(String device, Precision p) throws Exception {
        Path dir = Golden.dir(CASE);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), CASE, device, false).precision(p);
                TensorFile io = Golden.io(CASE)) {
            return m.forward(Golden.floats(io, "x"), Golden.longsAsFloats(io, "t"), io.get("y").toLongArray());
        }
    }

    /**
     * TF32 keeps 10 mantissa bits (unit roundoff 2^-11 = 4.9e-4 per operand) and the bound for it is
     * 1e-2 max(1,|ref|). BF16 keeps 7 (2^-8 = 3.9e-3 per operand, 8x TF32's): held to 8x the TF32 bound. Each
     * must differ from FP32, or the switch did nothing.
     */
    @Test
    void precisionSwitchChangesTheArithmeticWithinItsBounds() throws Exception {
        float[] ref;
        try (TensorFile io = Golden.io(CASE)) {
            ref = Golden.floats(io, "out");
        }
        float[] fp32 = goldenForward("cuda-emu", Precision.FP32);
        float[] tf32 = goldenForward("cuda-emu", Precision.TF32);
        float[] bf16 = goldenForward("cuda-emu", Precision.BF16);
        Golden.assertMatches(ref, fp32, "fp32");
        double eTf32 = Bf16.relError(ref, tf32), eBf16 = Bf16.relError(ref, bf16), eFp32 = Bf16.relError(ref, fp32);
        assertTrue(eTf32 <= 1e-2, "tf32 error " + eTf32);
        assertTrue(eBf16 <= 8e-2, "bf16 error " + eBf16);
        assertFalse(Arrays.equals(fp32, tf32), "tf32 gave bit-identical fp32 results");
        assertFalse(Arrays.equals(tf32, bf16), "bf16 gave bit-identical tf32 results");
        assertTrue(eFp32 < eTf32 && eTf32 < eBf16, "errors fp32 " + eFp32 + " tf32 " + eTf32 + " bf16 " + eBf16);
        System.out.printf("%s on cuda-emu, max |err|/max(1,|ref|): fp32 %.2g, tf32 %.2g, bf16 %.2g%n", CASE, eFp32, eTf32,
                eBf16);
        // TF32 is a tensor-core format: the CPU computes fp32 for it (CPU bf16: CpuBf16Test)
        float[] cpu = goldenForward("cpu", Precision.TF32);
        Golden.assertMatches(ref, cpu, "cpu with tf32 requested");
    }

    /**
     * In BF16 on a CUDA device the fused full-width forward keeps qkv, the attention output and the MLP hidden in bf16
     * (the kernels read and write them); an observer, which reads the branch outputs, runs the fp32-buffer path. Both
     * stay within the bf16 bound, and they differ (qkv rounded to bf16 before attention): the bf16 buffers are used.
     */
    @Test
    void bf16ForwardKeepsActivationsInBf16OnTheFusedPath() throws Exception {
        Path dir = Golden.dir(CASE);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), CASE, "cuda-emu", false)
                .precision(Precision.BF16); TensorFile io = Golden.io(CASE)) {
            float[] x = Golden.floats(io, "x"), t = Golden.longsAsFloats(io, "t"), ref = Golden.floats(io, "out");
            long[] y = io.get("y").toLongArray();
            float[] fused = m.forward(x, t, y);
            float[] observed = m.forward(x, t, y, (name, value) -> { });
            double eFused = Bf16.relError(ref, fused), eObserved = Bf16.relError(ref, observed);
            assertTrue(eFused <= Bf16.BOUND, "bf16 activations: error " + eFused);
            assertTrue(eObserved <= Bf16.BOUND, "fp32 activations: error " + eObserved);
            assertFalse(Arrays.equals(fused, observed), "the fused forward did not use the bf16 activations");
            assertTrue(Arrays.equals(fused, m.forward(x, t, y)), "the bf16 forward is deterministic");
            System.out.printf("%s bf16 on cuda-emu, max |err|/max(1,|ref|): bf16 activations %.2g, fp32 %.2g%n", CASE,
                    eFused, eObserved);
        }
    }

    /** The TF32 bound on the dynamic cases too (routers stay fp32; their decisions match here). */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"dydit_v2_p2_d64_h4", "diffcr_d1_T16_R2"})
    void tf32StaysWithinOnePercentOnTheDynamicCases(String name) throws Exception {
        Path dir = Golden.dir(name);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), name, "cuda-emu", false).precision(Precision.TF32);
                TensorFile io = Golden.io(name)) {
            float[] out = m.forward(Golden.floats(io, "x"), Golden.longsAsFloats(io, "t"), io.get("y").toLongArray());
            double e = Bf16.relError(Golden.floats(io, "out"), out);
            assertTrue(e <= 1e-2, name + " tf32 error " + e);
        }
    }

    @Test
    void profilerRangesNestAroundEveryStageAndBalance() throws Exception {
        Ranges.record(true);
        try {
            goldenForward("cuda-emu", Precision.FP32);
            int depth = 2; // the case's depth
            // forward + per block: block, attention, mlp
            assertTrue(Ranges.count() >= 1 + 3L * depth, "ranges " + Ranges.count());
            assertTrue(Ranges.maxDepth() >= 3, "forward > block > stage, got depth " + Ranges.maxDepth());
            assertEquals(0, Ranges.depth(), "every range popped");
        } finally {
            Ranges.record(false);
        }
    }

    @Test
    void kernelLimitsAndMixedDevicesAreTypedErrorsAndTheDeviceStaysUsable() {
        Device emu = Device.cudaEmulated();
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        try (Scope s = Scope.open()) {
            Tensor q = s.of(emu, randoms(r, 2 * 3 * 200), 1, 2, 3, 200);
            Tensor o = s.empty(emu, DType.F32, 1, 2, 3, 200);
            UnsupportedOnDeviceException e = assertThrows(UnsupportedOnDeviceException.class,
                    () -> Ops.attention(q, q, q, 0.1f, o));
            assertTrue(e.getMessage().contains("attention") && e.getMessage().contains("200"), e.getMessage());
            Tensor x = s.of(emu, randoms(r, 6), 2, 3), y = s.empty(emu, DType.F32, 2, 3);
            Tensor hostX = s.of(Device.cpu(), randoms(r, 6), 2, 3);
            assertThrows(DeviceMismatchException.class, () -> Ops.silu(hostX, y));
            // a launch the kernel's host entry refuses: 65536 row tiles exceed gridDim.y (4M rows per GEMM call)
            Tensor tall = s.empty(emu, DType.F32, 64L * 65536, 1), w1 = s.of(emu, new float[] {2}, 1, 1);
            Tensor out1 = s.empty(emu, DType.F32, 64L * 65536, 1);
            io.dyndit.core.CudaException c = assertThrows(io.dyndit.core.CudaException.class,
                    () -> Ops.linear(tall, w1, null, out1));
            assertTrue(c.getMessage().contains("gemm_tf32") && c.getMessage().contains("cudaErrorInvalidValue"),
                    c.getMessage());
            Ops.silu(x, y); // still usable
            float[] in = x.toFloatArray(), out = y.toFloatArray();
            for (int i = 0; i < in.length; i++) {
                assertEquals(in[i] / (1 + Math.exp(-in[i])), out[i], 1e-6 * Math.max(1, Math.abs(in[i])));
            }
        }
    }

    /**
     * A static forward is captured once per workspace / plan / precision and replayed: results bit-identical to
     * launching op by op (same kernels, same order), for fresh inputs each call.
     */
    @Test
    void cudaGraphsReplayTheForwardBitForBit() {
        DiTConfig c = DyDiTEngineTest.CFG;
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        RandomDiT file = new RandomDiT(c, r.nextLong());
        Device emu = Device.cudaEmulated();
        try (DiTModel graphed = DiTModel.load(file, c, emu).precision(Precision.FP32);
                DiTModel direct = DiTModel.load(file, c, emu).precision(Precision.FP32).cudaGraphs(false)) {
            int n = 2, per = c.inChannels() * c.inputSize() * c.inputSize();
            for (int call = 0; call < 3; call++) {
                float[] x = randoms(r, n * per);
                float[] t = {r.nextInt(1000), r.nextInt(1000)};
                long[] y = {r.nextInt(c.numClasses()), r.nextInt(c.numClasses())};
                DiTModel.Result a = graphed.forwardDetailed(x, t, y, ForwardObserver.NONE);
                DiTModel.Result b = direct.forwardDetailed(x, t, y, ForwardObserver.NONE);
                assertTrue(Arrays.equals(a.out(), b.out()), "call " + call + ": graph replay differs");
                assertEquals(b.macs(), a.macs());
            }
            assertEquals(1, graphed.capturedGraphs(), "one static plan, one workspace: captured once");
            assertEquals(0, direct.capturedGraphs());
            graphed.precision(Precision.TF32).forward(randoms(r, n * per), new float[] {3, 4}, new long[] {0, 1});
            assertEquals(2, graphed.capturedGraphs(), "another precision is another graph");
        }
    }

    /** Precision, stream and graph capture are per host thread: two models of different precision side by side. */
    @Test
    void twoThreadsWithDifferentPrecisionsDoNotInterfere() throws Exception {
        DiTConfig c = DyDiTEngineTest.CFG;
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        RandomDiT file = new RandomDiT(c, r.nextLong());
        Device emu = Device.cudaEmulated();
        int n = 2, per = c.inChannels() * c.inputSize() * c.inputSize();
        float[] x = randoms(r, n * per), t = {10, 900};
        long[] y = {1, 2};
        try (DiTModel a = DiTModel.load(file, c, emu).precision(Precision.FP32);
                DiTModel b = DiTModel.load(file, c, emu).precision(Precision.BF16)) {
            float[] refA = a.forward(x, t, y), refB = b.forward(x, t, y);
            assertFalse(Arrays.equals(refA, refB));
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.Future<Boolean> fa = pool.submit(() -> {
                    boolean same = true;
                    for (int i = 0; i < 20; i++) same &= Arrays.equals(refA, a.forward(x, t, y));
                    return same;
                });
                java.util.concurrent.Future<Boolean> fb = pool.submit(() -> {
                    boolean same = true;
                    for (int i = 0; i < 20; i++) same &= Arrays.equals(refB, b.forward(x, t, y));
                    return same;
                });
                assertTrue(fa.get(), "fp32 model disturbed");
                assertTrue(fb.get(), "bf16 model disturbed");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void aHostReadInsideACaptureFailsItCleanly() {
        Device emu = Device.cudaEmulated();
        try (Scope s = Scope.open()) {
            Tensor x = s.of(emu, new float[] {1, -2, 3}, 3), y = s.empty(emu, DType.F32, 3);
            io.dyndit.core.CudaException e = assertThrows(io.dyndit.core.CudaException.class,
                    () -> io.dyndit.core.CudaGraph.capture(emu, () -> {
                        Ops.relu(x, y);
                        y.toFloatArray();
                    }));
            assertTrue(e.getMessage().contains("capturing"), e.getMessage());
            Ops.relu(x, y); // the capture ended: the device runs ops again
            assertTrue(Arrays.equals(new float[] {1, 0, 3}, y.toFloatArray()));
            try (io.dyndit.core.CudaGraph g = io.dyndit.core.CudaGraph.capture(emu, () -> Ops.silu(x, y))) {
                x.copyFrom(new float[] {0, 0, 0});
                g.launch(); // replays on the tensors' contents now
                assertTrue(Arrays.equals(new float[] {0, 0, 0}, y.toFloatArray()));
            }
        }
    }

    /** Runs only where a GPU exists; skipped (not passed) elsewhere. */
    @Test
    void realGpuReproducesTheGoldenCase() throws Exception {
        assumeTrue(Device.cuda(0).isAvailable(), "no usable CUDA device here");
        float[] ref;
        try (TensorFile io = Golden.io(CASE)) {
            ref = Golden.floats(io, "out");
        }
        Golden.assertMatches(ref, goldenForward("cuda", Precision.FP32), "cuda fp32");
        assertTrue(Bf16.relError(ref, goldenForward("cuda", Precision.TF32)) <= 1e-2);
    }

    private static float[] randoms(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }
}
