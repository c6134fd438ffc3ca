package io.dyndit.model;

import io.dyndit.testing.Bf16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Precision;
import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * --precision bf16 on the CPU (oneDNN bf16 linears, fp32 accumulation, fp32 everywhere else) on the goldens: within
 * the bf16 bound of the official outputs, different from fp32 (the switch took effect), and with the routers'
 * keep/skip decisions equal to the fp32 ones. TF32 on the CPU is fp32, exact at the goldens' 1e-4.
 */
class CpuBf16Test {

    private static DiTModel.Result run(String name, Precision p) throws Exception {
        Path dir = Golden.dir(name);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), name, "cpu", false).precision(p);
                TensorFile io = Golden.io(name)) {
            return m.forwardDetailed(Golden.floats(io, "x"), Golden.longsAsFloats(io, "t"), io.get("y").toLongArray(),
                    ForwardObserver.NONE);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"dit_p2_d64_h4", "dit_p4_c3_nosigma", "dydit_v2_p2_d64_h4", "diffcr_d1_T16_R2"})
    void bf16StaysWithinItsBoundWithTheFp32Decisions(String name) throws Exception {
        assumeTrue(Bf16.cpuRuns(), "no bf16 arithmetic on this CPU");
        float[] ref;
        try (TensorFile io = Golden.io(name)) {
            ref = Golden.floats(io, "out");
        }
        DiTModel.Result fp32 = run(name, Precision.FP32), tf32 = run(name, Precision.TF32), bf16 = run(name, Precision.BF16);
        Golden.assertMatches(ref, fp32.out(), "fp32");
        Golden.assertMatches(ref, tf32.out(), "tf32 (fp32 on the CPU)");
        double e = Bf16.relError(ref, bf16.out());
        System.out.printf("%s on the CPU in bf16: max |err|/max(1,|ref|) = %.2g (fp32 %.2g)%n", name, e,
                Bf16.relError(ref, fp32.out()));
        assertTrue(e <= Bf16.BOUND, name + " bf16 error " + e);
        assertFalse(Arrays.equals(fp32.out(), bf16.out()), "bf16 gave bit-identical fp32 results");
        assertEquals(fp32.macs(), bf16.macs(), "executed MACs (the routers' decisions)");
        DynamicTrace a = fp32.trace(), b = bf16.trace();
        if (a != null) {
            assertArrayEquals(a.attnMasks, b.attnMasks, "attention head masks");
            assertArrayEquals(a.mlpMasks, b.mlpMasks, "MLP group masks");
            assertArrayEquals(a.tokenSelect, b.tokenSelect, "token decisions");
            for (int l = 0; a.topK != null && l < a.topK.length; l++) {
                assertArrayEquals(a.topK[l], b.topK[l], "DiffCR top-k of block " + l);
            }
        }
    }

    /** Precision is per evaluating thread: an fp32 and a bf16 model of the same weights side by side stay themselves. */
    @Test
    void fp32AndBf16ModelsOnTwoThreadsDoNotInterfere() throws Exception {
        assumeTrue(Bf16.cpuRuns(), "no bf16 arithmetic on this CPU");
        DiTConfig c = DyDiTEngineTest.CFG;
        Random r = new Random(io.dyndit.testing.Seeds.fresh());
        RandomDiT file = new RandomDiT(c, r.nextLong());
        int n = 2, per = c.inChannels() * c.inputSize() * c.inputSize();
        float[] x = new float[n * per];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] t = {r.nextInt(1000), r.nextInt(1000)};
        long[] y = {r.nextInt(c.numClasses()), r.nextInt(c.numClasses())};
        try (DiTModel a = DiTModel.load(file, c, Device.cpu()).precision(Precision.FP32);
                DiTModel b = DiTModel.load(file, c, Device.cpu()).precision(Precision.BF16)) {
            float[] refA = a.forward(x, t, y), refB = b.forward(x, t, y);
            assertFalse(Arrays.equals(refA, refB), "bf16 model computed fp32");
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.Future<Boolean> fa = pool.submit(() -> {
                    boolean same = true;
                    for (int i = 0; i < 10; i++) same &= Arrays.equals(refA, a.forward(x, t, y));
                    return same;
                });
                java.util.concurrent.Future<Boolean> fb = pool.submit(() -> {
                    boolean same = true;
                    for (int i = 0; i < 10; i++) same &= Arrays.equals(refB, b.forward(x, t, y));
                    return same;
                });
                assertTrue(fa.get(), "fp32 model disturbed");
                assertTrue(fb.get(), "bf16 model disturbed");
            } finally {
                pool.shutdownNow();
            }
        }
    }

    /** The kernel names the bench reports come from oneDNN (its impl_info), one per precision. */
    @Test
    void matmulKernelsAreNamed() {
        String fp32 = LibraryInfo.cpuMatmulKernel(256, 512, 128, Precision.FP32);
        assertTrue(fp32.contains(":"), fp32); // impl:isa, e.g. brg_matmul:avx512_core
        assertEquals(fp32, LibraryInfo.cpuMatmulKernel(256, 512, 128, Precision.TF32), "tf32 is fp32 on the CPU");
        if (Bf16.cpuRuns()) {
            String bf16 = LibraryInfo.cpuMatmulKernel(256, 512, 128, Precision.BF16);
            assertTrue(bf16.contains(":"), bf16);
        }
        io.dyndit.core.InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.dyndit.core.InvalidArgumentException.class, () -> LibraryInfo.cpuMatmulKernel(0, 5, 5, Precision.FP32));
        assertTrue(e.getMessage().contains("0 x 5 x 5"), e.getMessage());
    }
}
