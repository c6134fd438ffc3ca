package io.dyndit.sampling;

/**
 * Where the loop's Gaussian noise comes from: the initial latent x_T and, for DDPM (and DDIM with eta > 0), the fresh
 * N(0, 1) draw of every step. Batches use the official layout: with guidance the loop carries 2n rows, [z; z] for the
 * initial latent (rows n..2n-1 repeat rows 0..n-1) and independent noise for all 2n rows at each step; without
 * guidance it carries n rows. Values are row-major [batch, C, I, I].
 *
 * <p>Thread-safety: {@link SeededNoise} is immutable and safe to share; {@link InjectedNoise} serves one generation at
 * a time.
 */
public sealed interface NoiseSource permits SeededNoise, InjectedNoise {
    /** A deterministic generator keyed by {@code seed} (see {@link SeededNoise}). */
    static NoiseSource seeded(long seed) {
        return new SeededNoise(seed);
    }

    /**
     * The same generator for a batch whose sample j is global sample {@code firstIndex + j}: any split of a run into
     * batches or shards gives each global sample the same noise.
     */
    static NoiseSource seeded(long seed, long firstIndex) {
        return new SeededNoise(seed, Runtime.getRuntime().availableProcessors(), firstIndex);
    }

    /**
     * Throws a {@link io.dyndit.core.DynditException} subclass, before any model evaluation, when this source cannot
     * serve a run of {@code n} samples in a batch of {@code batch} rows of shape [channels, size, size] whose steps
     * 0..{@code noisySteps}-1 need noise.
     */
    void check(int n, int batch, int channels, int size, int noisySteps);

    /** x_T for the batch: [batch, C, I, I]. */
    float[] initialLatents(int n, int batch, int valuesPerSample);

    /** The noise of loop step {@code step} (0 = first), [batch, C, I, I]. */
    float[] stepNoise(int step, int n, int batch, int valuesPerSample);
}
