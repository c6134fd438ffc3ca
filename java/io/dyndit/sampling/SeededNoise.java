package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;

/**
 * Noise keyed by (seed, step, sample, element) through {@link PhiloxGaussian}, so a run is reproducible across runs,
 * thread counts and machines. Philox key = seed; counter = (element/2, sample, step, stream) with streams
 * <ul>
 *   <li>0: the initial latent of sample j (step word 0), repeated for the guidance half;</li>
 *   <li>1: the step noise of row j (the conditional rows, or all rows without guidance);</li>
 *   <li>2: the step noise of the unconditional row n + j.</li>
 * </ul>
 * Keying by sample index rather than batch position gives sample j the same noise whatever the batch size.
 *
 * <p>Thread-safety: immutable, safe to share between generations on many threads.
 */
public final class SeededNoise implements NoiseSource {
    static final int STREAM_INITIAL = 0, STREAM_STEP = 1, STREAM_STEP_UNCOND = 2;
    /** Below this many values one thread is faster than starting more. */
    private static final int PARALLEL_THRESHOLD = 1 << 16;

    private final long seed;
    private final int threads;

    public SeededNoise(long seed) {
        this(seed, Runtime.getRuntime().availableProcessors());
    }

    /** {@code threads} only changes speed, never the values. */
    public SeededNoise(long seed, int threads) {
        if (threads < 1) {
            throw new InvalidArgumentException("noise threads must be >= 1, got " + threads);
        }
        this.seed = seed;
        this.threads = threads;
    }

    public long seed() {
        return seed;
    }

    @Override
    public void check(int n, int batch, int channels, int size, int noisySteps) {}

    @Override
    public float[] initialLatents(int n, int batch, int valuesPerSample) {
        float[] out = new float[Math.multiplyExact(batch, valuesPerSample)];
        fill(out, valuesPerSample, n, n, 0, true);
        for (int row = n; row < batch; row++) {
            System.arraycopy(out, (row - n) * valuesPerSample, out, row * valuesPerSample, valuesPerSample);
        }
        return out;
    }

    @Override
    public float[] stepNoise(int step, int n, int batch, int valuesPerSample) {
        float[] out = new float[Math.multiplyExact(batch, valuesPerSample)];
        fill(out, valuesPerSample, batch, n, step, false);
        return out;
    }

    /** Fills rows 0..rows-1 of out, split into contiguous ranges over up to {@code threads} threads. */
    private void fill(float[] out, int perSample, int rows, int n, int step, boolean initial) {
        int total = rows * perSample;
        int workers = total < PARALLEL_THRESHOLD ? 1 : threads;
        if (workers == 1) {
            fillRange(out, perSample, n, step, initial, 0, total);
            return;
        }
        int chunk = (total + workers - 1) / workers;
        List<Thread> started = new ArrayList<>();
        for (int w = 0; w < workers && w * chunk < total; w++) {
            int from = w * chunk, to = Math.min(total, from + chunk);
            Thread t = new Thread(() -> fillRange(out, perSample, n, step, initial, from, to), "dyndit-noise-" + w);
            t.setDaemon(true);
            t.start();
            started.add(t);
        }
        for (Thread t : started) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new GenerationCancelledException("interrupted while drawing noise", step);
            }
        }
    }

    /** Flat positions [from, to): row r uses sample r (or r - n in the unconditional half) and its own stream. */
    private void fillRange(float[] out, int perSample, int n, int step, boolean initial, int from, int to) {
        int pos = from;
        while (pos < to) {
            int row = pos / perSample, element = pos % perSample;
            int count = Math.min(to - pos, perSample - element);
            int stream = initial ? STREAM_INITIAL : row < n ? STREAM_STEP : STREAM_STEP_UNCOND;
            int sample = row < n ? row : row - n;
            PhiloxGaussian.fill(out, pos, count, seed, sample, initial ? 0 : step, stream, element);
            pos += count;
        }
    }
}
