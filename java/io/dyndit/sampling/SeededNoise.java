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
 * Keying by sample index rather than batch position gives sample j the same noise whatever the batch size. With a
 * first index a, sample j of the batch draws as global sample a + j, so a large run split into batches or shards
 * anywhere gives every global sample the noise it gets in one batch.
 *
 * <p>Thread-safety: immutable, safe to share between generations on many threads.
 */
public final class SeededNoise implements NoiseSource {
    static final int STREAM_INITIAL = 0, STREAM_STEP = 1, STREAM_STEP_UNCOND = 2;
    /** Below this many values one thread is faster than starting more. */
    private static final int PARALLEL_THRESHOLD = 1 << 16;

    /** Global sample indices are one 32-bit counter word. */
    public static final long MAX_INDEX = 0xFFFFFFFFL;

    private final long seed;
    private final int threads;
    private final long firstIndex;

    public SeededNoise(long seed) {
        this(seed, Runtime.getRuntime().availableProcessors());
    }

    /** {@code threads} only changes speed, never the values. */
    public SeededNoise(long seed, int threads) {
        this(seed, threads, 0);
    }

    /**
     * Sample j of a batch draws the noise of global sample {@code firstIndex + j}; {@code threads} only changes speed.
     * Throws InvalidArgumentException for a negative first index or one past {@link #MAX_INDEX}.
     */
    public SeededNoise(long seed, int threads, long firstIndex) {
        if (threads < 1) {
            throw new InvalidArgumentException("noise threads must be >= 1, got " + threads);
        }
        if (firstIndex < 0 || firstIndex > MAX_INDEX) {
            throw new InvalidArgumentException("first sample index must be in 0.." + MAX_INDEX + ", got " + firstIndex);
        }
        this.seed = seed;
        this.threads = threads;
        this.firstIndex = firstIndex;
    }

    public long seed() {
        return seed;
    }

    /** The global index of the batch's sample 0. */
    public long firstIndex() {
        return firstIndex;
    }

    @Override
    public void check(int n, int batch, int channels, int size, int noisySteps) {
        if (firstIndex + n - 1 > MAX_INDEX) {
            throw new InvalidArgumentException("global sample indices " + firstIndex + ".." + (firstIndex + n - 1)
                    + " pass the last one the noise counter holds, " + MAX_INDEX);
        }
    }

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
            int sample = (int) (firstIndex + (row < n ? row : row - n)); // the counter word, unsigned
            PhiloxGaussian.fill(out, pos, count, seed, sample, initial ? 0 : step, stream, element);
            pos += count;
        }
    }
}
