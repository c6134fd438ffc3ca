package io.dyndit.sampling;

import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.CheckpointException;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Noise read from a tensor file, to replay a run of the official sampler: {@code z} is the initial latent, either
 * [n, C, I, I] (duplicated to [z; z] under guidance, as sample.py does) or the whole batch [batch, C, I, I];
 * {@code step.{k}.noise} [batch, C, I, I], when present, replaces the fresh draw of loop step k. A file holds either
 * every step noise the run needs or none (then steps draw from a {@link SeededNoise} with the fallback seed).
 * Tensors are read lazily, step by step; close() releases the file.
 *
 * <p>Thread-safety: not thread-safe: one generation at a time (it remembers whether the file holds step noise).
 */
public final class InjectedNoise implements NoiseSource, AutoCloseable {
    private final TensorFile file;
    private final SeededNoise fallback;
    private boolean useFileSteps;

    /** Reads from an open file; {@link #close()} closes it. */
    public InjectedNoise(TensorFile file, long fallbackSeed) {
        this.file = file;
        this.fallback = new SeededNoise(fallbackSeed);
    }

    public static InjectedNoise open(Path path, long fallbackSeed) {
        return new InjectedNoise(TensorFiles.open(path), fallbackSeed);
    }

    static String stepName(int step) {
        return "step." + step + ".noise";
    }

    @Override
    public void check(int n, int batch, int channels, int size, int noisySteps) {
        StoredTensor z = file.get("z");
        long[] zs = z.shape();
        boolean rowsOk = zs.length == 4 && (zs[0] == n || zs[0] == batch);
        if (!rowsOk || !sampleShapeOk(zs, channels, size) || !z.dtype().isFloatingPoint()) {
            throw new ShapeMismatchException("noise tensor 'z' in " + file.source() + " is " + z.dtype()
                    + Arrays.toString(zs) + "; expected floating point [" + n + "," + channels + "," + size + "," + size
                    + "]" + (batch != n ? " or the guidance batch [" + batch + "," + channels + "," + size + "," + size
                    + "]" : "") + " for " + n + " label(s)");
        }
        int present = 0;
        for (int k = 0; k < noisySteps; k++) {
            present += file.contains(stepName(k)) ? 1 : 0;
        }
        if (present != 0 && present != noisySteps) {
            throw new CheckpointException("noise file " + file.source() + " has " + present + " of the " + noisySteps
                    + " step noises step.0.noise..step." + (noisySteps - 1) + ".noise this run needs; give all or none");
        }
        useFileSteps = present > 0;
        for (int k = 0; useFileSteps && k < noisySteps; k++) {
            StoredTensor s = file.get(stepName(k));
            long[] ss = s.shape();
            if (ss.length != 4 || ss[0] != batch || !sampleShapeOk(ss, channels, size) || !s.dtype().isFloatingPoint()) {
                throw new ShapeMismatchException("noise tensor '" + stepName(k) + "' in " + file.source() + " is "
                        + s.dtype() + Arrays.toString(ss) + "; expected floating point [" + batch + "," + channels + ","
                        + size + "," + size + "]");
            }
        }
    }

    private static boolean sampleShapeOk(long[] shape, int channels, int size) {
        return shape.length == 4 && shape[1] == channels && shape[2] == size && shape[3] == size;
    }

    @Override
    public float[] initialLatents(int n, int batch, int valuesPerSample) {
        float[] z = file.get("z").toFloatArray();
        if (z.length == batch * valuesPerSample) {
            return z;
        }
        float[] out = Arrays.copyOf(z, batch * valuesPerSample);
        for (int row = n; row < batch; row++) {
            System.arraycopy(z, (row - n) * valuesPerSample, out, row * valuesPerSample, valuesPerSample);
        }
        return out;
    }

    @Override
    public float[] stepNoise(int step, int n, int batch, int valuesPerSample) {
        return useFileSteps ? file.get(stepName(step)).toFloatArray() : fallback.stepNoise(step, n, batch, valuesPerSample);
    }

    @Override
    public void close() {
        file.close();
    }
}
