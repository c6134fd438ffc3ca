package io.dyndit.sampling;

import java.util.ArrayList;
import java.util.List;

/**
 * A cheap deterministic stand-in model, also written in double ({@link #reference}) for reference loops:
 * ε = 0.3·x + 0.2·sin(0.7·p + ch + 0.003·t), variance values v = 0.9·sin(0.5·p − ch + 0.002·t) (when Co = 2C).
 * Guidance is not modelled: the output only depends on each row's own x. Records every call.
 */
class FakeDenoiser implements Denoiser {
    static final double MACS_PER_SAMPLE = 1000;

    record Call(int step, long timestep, long[] labels, double cfgScale, int batch) {}

    final int channels, size, outChannels;
    final long nullClass;
    final List<Call> calls = new ArrayList<>();

    FakeDenoiser(int channels, int size, boolean learnSigma, long nullClass) {
        this.channels = channels;
        this.size = size;
        this.outChannels = learnSigma ? 2 * channels : channels;
        this.nullClass = nullClass;
    }

    /** Model output for one row in double; {@code x} is that row [C, I·I]. */
    double[] reference(double[] x, long t) {
        int plane = size * size;
        double[] out = new double[outChannels * plane];
        for (int ch = 0; ch < outChannels; ch++) {
            for (int p = 0; p < plane; p++) {
                out[ch * plane + p] = ch < channels ? 0.3 * x[ch * plane + p] + 0.2 * Math.sin(0.7 * p + ch + 0.003 * t)
                        : 0.9 * Math.sin(0.5 * p - (ch - channels) + 0.002 * t);
            }
        }
        return out;
    }

    @Override
    public Evaluation evaluate(float[] x, long[] y, int step, long modelTimestep, double cfgScale) {
        calls.add(new Call(step, modelTimestep, y.clone(), cfgScale, y.length));
        int per = channels * size * size, outPer = outChannels * size * size;
        float[] out = new float[y.length * outPer];
        for (int b = 0; b < y.length; b++) {
            double[] row = new double[per];
            for (int e = 0; e < per; e++) {
                row[e] = x[b * per + e];
            }
            double[] o = reference(row, modelTimestep);
            for (int e = 0; e < outPer; e++) {
                out[b * outPer + e] = (float) o[e];
            }
        }
        return new Evaluation(out, MACS_PER_SAMPLE * y.length);
    }

    @Override
    public int inChannels() {
        return channels;
    }

    @Override
    public int inputSize() {
        return size;
    }

    @Override
    public int outChannels() {
        return outChannels;
    }

    @Override
    public long nullClass() {
        return nullClass;
    }

    @Override
    public double staticMacsPerSample() {
        return MACS_PER_SAMPLE;
    }
}
