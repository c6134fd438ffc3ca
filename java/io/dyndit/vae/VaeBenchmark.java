package io.dyndit.vae;

import io.dyndit.core.Device;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Decode time and memory of a random-weight decoder (by default the full-size SD-VAE structure at 256x256):
 * {@code java -cp target/dyndit-all.jar io.dyndit.vae.VaeBenchmark [image size] [batch] [timed runs]}.
 *
 * <p>Thread-safety: a command-line program (main only); it shares no state.
 */
public final class VaeBenchmark {
    /** Median seconds per decode call, its GFLOP/s, and the process's peak resident memory (-1 where unknown). */
    public record Result(long parameters, double loadSeconds, double firstSeconds, double medianSeconds, double gflops,
            double cpuSecondsPerDecode, long peakRssBytes) {}

    private VaeBenchmark() {}

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 256;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 1;
        int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        run(VaeConfig.stableDiffusion(), size, batch, runs, System.out);
    }

    /** Loads random weights for {@code c}, decodes {@code runs + 1} batches (the first plans the buffers). */
    public static Result run(VaeConfig c, int imageSize, int batch, int runs, PrintStream out) {
        if (imageSize % c.upscale() != 0) {
            throw new IllegalArgumentException("image size " + imageSize + " is not a multiple of " + c.upscale());
        }
        int latent = imageSize / c.upscale();
        RandomVae random = new RandomVae(c, 1);
        long t0 = System.nanoTime();
        try (VaeDecoder vae = VaeDecoder.load(random, c, Device.cpu())) {
            double load = (System.nanoTime() - t0) / 1e9;
            long[] shape = {batch, c.latentChannels(), latent, latent};
            float[] z = new float[batch * c.latentChannels() * latent * latent];
            SplittableRandom r = new SplittableRandom(2);
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) (r.nextGaussian() * 0.8);
            }
            double[] times = new double[runs + 1];
            double cpu0 = 0;
            for (int i = 0; i <= runs; i++) {
                if (i == Math.min(1, runs)) {
                    cpu0 = processCpuSeconds();
                }
                long s = System.nanoTime();
                vae.decodeLatents(z, shape);
                times[i] = (System.nanoTime() - s) / 1e9;
            }
            // CPU time of all threads: on a shared machine it moves less than wall time when cores are taken away
            double cpu = (processCpuSeconds() - cpu0) / Math.max(1, runs);
            double[] timed = runs > 0 ? Arrays.copyOfRange(times, 1, times.length) : times.clone();
            Arrays.sort(timed);
            double median = timed[timed.length / 2];
            double gflops = 2 * VaeFlops.macsPerSample(c, latent, latent) * batch / median / 1e9;
            Result res = new Result(random.parameterCount(), load, times[0], median, gflops, cpu, peakRssBytes());
            out.printf(Locale.ROOT,
                    "vae decode: block_out_channels %s, G=%d, L=%d, %.1fM parameters (random), %dx%d, batch %d%n",
                    c.blockOutChannels(), c.normNumGroups(), c.layersPerBlock(), res.parameters / 1e6, imageSize, imageSize,
                    batch);
            out.printf(Locale.ROOT, "load:   %.2f s%nfirst:  %.2f s (plans the buffers)%nmedian: %.2f s over %d runs, "
                    + "%.1f GFLOP/s (%.1f GMACs per image); %.2f s of CPU time per decode on %d threads%n", load, times[0],
                    median, timed.length, gflops, VaeFlops.macsPerSample(c, latent, latent) / 1e9, cpu,
                    io.dyndit.core.LibraryInfo.query().threads());
            if (res.peakRssBytes >= 0) {
                out.printf(Locale.ROOT, "peak resident memory of this process: %.0f MiB%n", res.peakRssBytes / 1048576.0);
            }
            return res;
        }
    }

    /** User + system CPU seconds of this process (all threads) from /proc/self/stat, 0 where unknown. */
    static double processCpuSeconds() {
        try {
            String stat = Files.readString(Path.of("/proc/self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;  // utime, stime in USER_HZ (100)
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** VmHWM from /proc/self/status (Linux), or -1. */
    public static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
