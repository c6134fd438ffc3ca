package io.dyndit.model;

import io.dyndit.sampling.Denoiser;

/**
 * A model's denoiser seen through the plain {@link Denoiser} interface: the sampler cannot see its device (host loop)
 * nor is told the generation's timesteps (every step makes its own conditioning); {@link #reserve()} is passed on
 * or not.
 */
final class PlainDenoiser implements Denoiser {
    private final Denoiser d;
    private final boolean reserves;

    private PlainDenoiser(Denoiser d, boolean reserves) {
        this.d = d;
        this.reserves = reserves;
    }

    /** Host loop, no reservation (DeviceLoopTest). */
    static Denoiser hostOnly(Denoiser d) {
        return new PlainDenoiser(d, false);
    }

    /** The reservation kept (caches reset per generation), the timesteps not announced (ConditioningTableTest). */
    static Denoiser stepByStep(Denoiser d) {
        return new PlainDenoiser(d, true);
    }

    @Override
    public Reservation reserve() {
        return reserves ? d.reserve() : () -> {};
    }

    @Override
    public Evaluation evaluate(float[] x, long[] y, int step, long t, double cfg) {
        return d.evaluate(x, y, step, t, cfg);
    }

    @Override
    public int inChannels() {
        return d.inChannels();
    }

    @Override
    public int inputSize() {
        return d.inputSize();
    }

    @Override
    public int outChannels() {
        return d.outChannels();
    }

    @Override
    public long nullClass() {
        return d.nullClass();
    }

    @Override
    public double staticMacsPerSample() {
        return d.staticMacsPerSample();
    }
}
