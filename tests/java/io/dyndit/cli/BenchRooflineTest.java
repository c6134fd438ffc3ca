package io.dyndit.cli;

import io.dyndit.testing.Bf16;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Precision;
import io.dyndit.testing.Numbers;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** `bench` rooflines: the fc1-shaped oneDNN matmul in fp32 and bf16, the kernels named, ratios from the same numbers. */
class BenchRooflineTest {

    @Test
    void bf16BenchReportsBothRooflinesAndItsShareOfEach() {
        assumeTrue(Bf16.cpuRuns(), "no bf16 arithmetic on this CPU");
        String out = CliConventionsTest.run(0, "bench", "--model", "DiT-S/2", "--batch", "1", "--iters", "2", "--warmup",
                "0", "--precision", "bf16").out();
        assertTrue(out.contains("precision bf16"), out);
        double gflops = Numbers.find(out, "achieved: ([0-9.]+) GFLOP/s");
        double fp32 = Numbers.find(out, "sgemm: +([0-9.]+) GFLOP/s \\(256 x 1536 x 384, oneDNN [a-z_0-9]+:[a-z_0-9]+");
        double bf16 = Numbers.find(out, "bf16 gemm: +([0-9.]+) GFLOP/s \\(256 x 1536 x 384, oneDNN [a-z_0-9]+:[a-z_0-9]+");
        double r32 = Numbers.find(out, "ratio: +([0-9.]+)% of the SGEMM rate");
        double r16 = Numbers.find(out, "ratio: +([0-9.]+)% of the bf16 GEMM rate");
        // rates printed to 0.1 GFLOP/s (each off by up to 0.05) and ratios to 0.1%: the ratio of the printed rates is
        // within r (0.05 / achieved + 0.05 / roofline) + 0.05 of the printed ratio r
        assertEquals(100 * gflops / fp32, r32, r32 * (0.05 / gflops + 0.05 / fp32) + 0.05 + 1e-9, out);
        assertEquals(100 * gflops / bf16, r16, r16 * (0.05 / gflops + 0.05 / bf16) + 0.05 + 1e-9, out);
    }

    @Test
    void defaultBenchNamesTheFp32KernelAndSaysWhatBecameOfBf16() {
        String out = CliConventionsTest.run(0, "bench", "--model", "DiT-S/2", "--batch", "1", "--iters", "1", "--warmup",
                "0").out();
        Matcher m = Pattern.compile("sgemm: .*oneDNN ([a-z_0-9]+:[a-z_0-9]+)").matcher(out);
        assertTrue(m.find(), out);
        assertEquals(LibraryInfo.cpuMatmulKernel(256, 1536, 384, Precision.FP32), m.group(1));
        assertTrue(out.contains(Bf16.cpuRuns() ? "of the bf16 GEMM rate" : "bf16 gemm: not measured (bf16 on the CPU needs"),
                out);
    }
}
