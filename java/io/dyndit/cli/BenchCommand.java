package io.dyndit.cli;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import io.dyndit.model.DiTModel;
import io.dyndit.model.RandomDiT;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * `dyndit bench`: median time of a forward of a random-weight preset, its GFLOP/s, and that rate as a
 * fraction of the SGEMM rate measured in the same run (the model's fc1 shape).
 */
final class BenchCommand implements Main.Command {
    private static final String USAGE = "dyndit bench --model DiT-S/2 [--batch 8] [--input-size 32] [--iters 10] "
            + "[--warmup 2] [--threads N] [--device cpu]";

    @Override
    public String summary() {
        return "forward speed of a random-weight preset vs the machine's SGEMM rate";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws UsageException {
        Args a = new Args(argv, Set.of("--model", "--batch", "--input-size", "--iters", "--warmup", "--threads", "--device"),
                Set.of(), USAGE);
        DiTConfig c = DiTConfig.preset(a.required("--model"), a.integer("--input-size", 32));
        int batch = a.integer("--batch", 8), iters = a.integer("--iters", 10), warmup = a.integer("--warmup", 2);
        if (batch < 1 || iters < 1 || warmup < 0) {
            throw new UsageException("--batch and --iters must be >= 1, --warmup >= 0");
        }
        if (a.has("--threads")) {
            LibraryInfo.setThreads(a.integer("--threads", 0));
        }
        Device device = Device.parse(a.get("--device", "cpu"));
        LibraryInfo info = LibraryInfo.query();
        Random r = new Random(1);
        int per = c.inChannels() * c.inputSize() * c.inputSize();
        float[] x = new float[batch * per];
        float[] t = new float[batch];
        long[] y = new long[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < batch; i++) {
            t[i] = r.nextInt(1000);
            y[i] = r.nextInt(c.numClasses());
        }
        // Forward and SGEMM timings interleaved, so both medians see the same machine state.
        double[] ms = new double[iters];
        double[] sgemmRates = new double[iters];
        long m = (long) batch * c.tokens();
        try (DiTModel model = DiTModel.load(new RandomDiT(c, 7), c, device); Scope s = Scope.open()) {
            Tensor gx = s.zeros(Device.cpu(), DType.F32, m, c.hiddenSize());
            Tensor gw = s.zeros(Device.cpu(), DType.F32, c.mlpHidden(), c.hiddenSize());
            Tensor gy = s.empty(Device.cpu(), DType.F32, m, c.mlpHidden());
            Runnable fwd = () -> model.forward(x, t, y);
            Runnable gemm = () -> Ops.linear(gx, gw, null, gy);
            for (int i = 0; i < warmup; i++) {
                fwd.run();
                gemm.run();
            }
            for (int i = 0; i < iters; i++) {
                ms[i] = timeMs(fwd);
                sgemmRates[i] = 2.0 * m * c.mlpHidden() * c.hiddenSize() / (timeMs(gemm) * 1e6);
            }
        }
        double median = median(ms);
        double flops = 2 * DiTMacs.total(c) * batch;
        double gflops = flops / (median * 1e6);
        double sgemm = median(sgemmRates);
        out.printf(Locale.ROOT, "model %s batch %d (%d tokens), %d threads, kernels %s, device %s%n", a.required("--model"),
                batch, c.tokens(), info.threads(), info.kernelIsa(), device);
        out.printf(Locale.ROOT, "forward: median %.1f ms over %d runs (min %.1f, max %.1f)%n", median, iters,
                Arrays.stream(ms).min().orElse(0), Arrays.stream(ms).max().orElse(0));
        out.printf(Locale.ROOT, "achieved: %.1f GFLOP/s (%.2f GMACs per sample)%n", gflops, DiTMacs.total(c) / 1e9);
        out.printf(Locale.ROOT, "sgemm:    %.1f GFLOP/s (%d x %d x %d, median, interleaved with the forwards)%n", sgemm, (long) batch * c.tokens(),
                c.mlpHidden(), c.hiddenSize());
        out.printf(Locale.ROOT, "ratio:    %.1f%% of the SGEMM rate%n", 100 * gflops / sgemm);
        return 0;
    }

    private static double timeMs(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
