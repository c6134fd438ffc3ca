package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Ops;
import io.dyndit.core.Precision;
import io.dyndit.core.Tensor;
import io.dyndit.core.UnsupportedOnDeviceException;
import java.util.Arrays;
import java.util.Locale;

/**
 * The bench's roofline: the rate of one CPU linear of a model's shape (x [m, k] times w [n, k]^T, the fc1 GEMM) in
 * one precision, timed run by run between the forwards, and the oneDNN kernel that ran it.
 *
 * <p>Thread-safety: not thread-safe; one bench thread fills and reads it.
 */
final class Roofline {
    private final Precision precision;
    private final long m, n, k;
    private final double[] rates;
    private final String kernel;

    Roofline(Precision precision, long m, long n, long k, int iters) {
        this.precision = precision;
        this.m = m;
        this.n = n;
        this.k = k;
        this.rates = new double[iters];
        this.kernel = LibraryInfo.cpuMatmulKernel(m, n, k, precision);
    }

    /** Whether this CPU runs bf16 matmuls (else {@link #bf16Refusal} says why). */
    static boolean bf16Available() {
        return bf16Refusal() == null;
    }

    /** The library's refusal of CPU bf16 (naming the CPU's features), or null when bf16 runs. */
    static String bf16Refusal() {
        try {
            LibraryInfo.cpuMatmulKernel(1, 1, 1, Precision.BF16);
            return null;
        } catch (UnsupportedOnDeviceException e) {
            return e.getMessage();
        }
    }

    /** Times one GEMM into run {@code i} (i < 0: warm-up, not kept); the precision is set for this thread first. */
    void time(int i, Tensor x, Tensor w, Tensor y) {
        Device.cpu().setGemmPrecision(precision);
        long t0 = System.nanoTime();
        Ops.linear(x, w, null, y);
        double ms = (System.nanoTime() - t0) / 1e6;
        if (i >= 0) {
            rates[i] = 2.0 * m * n * k / (ms * 1e6);
        }
    }

    double rate() {
        double[] s = rates.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    String describe() {
        return String.format(Locale.ROOT, "%.1f GFLOP/s (%d x %d x %d, oneDNN %s, median, interleaved with the forwards)",
                rate(), m, n, k, kernel);
    }
}
