package io.dyndit.model;

import io.dyndit.core.Device;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Forward throughput of one shared model with 1, 2, 4... concurrent callers (random weights of a DiT preset):
 * {@code java -cp target/dyndit-all.jar io.dyndit.model.ConcurrencyBenchmark [DiT-S/2] [batch] [forwards per caller]
 * [callers, e.g. 1,2,4]}. Each caller runs its forwards back to back; throughput = all forwards / wall time.
 *
 * <p>Thread-safety: a command-line program (main only); it shares no state.
 */
public final class ConcurrencyBenchmark {
    /** Callers, wall seconds, forwards per second, and that rate relative to one caller. */
    public record Row(int callers, double seconds, double forwardsPerSecond, double relative) {}

    private ConcurrencyBenchmark() {}

    public static void main(String[] args) throws Exception {
        String model = args.length > 0 ? args[0] : "DiT-S/2";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 2;
        int per = args.length > 2 ? Integer.parseInt(args[2]) : 8;
        int[] callers = Arrays.stream((args.length > 3 ? args[3] : "1,2,4").split(",")).mapToInt(Integer::parseInt)
                .toArray();
        run(DiTConfig.preset(model, 32), batch, per, callers, Device.cpu(), System.out);
    }

    public static List<Row> run(DiTConfig c, int batch, int perCaller, int[] callers, Device device, PrintStream out)
            throws Exception {
        int n = c.inChannels() * c.inputSize() * c.inputSize() * batch;
        SplittableRandom r = new SplittableRandom(3);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.nextDouble(-2, 2);
        }
        long[] t = new long[batch], y = new long[batch];
        Arrays.fill(t, 500);
        List<Row> rows = new ArrayList<>();
        int most = Arrays.stream(callers).max().orElse(1);
        try (DiTModel m = DiTModel.load(new RandomDiT(c, 7), c, ModelOptions.builder().device(device)
                .maxConcurrency(Math.max(most, 1)).build())) {
            float[] want = m.forward(x, t, y); // warm-up: plans the first context
            double base = 0;
            for (int k : callers) {
                ExecutorService pool = Executors.newFixedThreadPool(k);
                try {
                    for (int i = 0; i < k; i++) { // warm every context first
                        pool.submit(() -> m.forward(x, t, y)).get();
                    }
                    long t0 = System.nanoTime();
                    List<Future<Boolean>> fs = new ArrayList<>();
                    for (int i = 0; i < k; i++) {
                        fs.add(pool.submit(() -> {
                            boolean same = true;
                            for (int j = 0; j < perCaller; j++) {
                                same &= Arrays.equals(want, m.forward(x, t, y));
                            }
                            return same;
                        }));
                    }
                    boolean same = true;
                    for (Future<Boolean> f : fs) {
                        same &= f.get();
                    }
                    double s = (System.nanoTime() - t0) / 1e9, rate = k * perCaller / s;
                    base = base == 0 ? rate * 1.0 / Math.max(1, k == callers[0] ? 1 : 1) : base;
                    Row row = new Row(k, s, rate, rate / base);
                    rows.add(row);
                    out.printf(Locale.ROOT, "%d caller(s): %d forwards in %.2f s = %.2f forwards/s (%.2fx one caller's rate)"
                            + "%s%n", k, k * perCaller, s, rate, row.relative(), same ? "" : "  RESULTS DIFFER");
                } finally {
                    pool.shutdownNow();
                }
            }
        }
        return rows;
    }
}
