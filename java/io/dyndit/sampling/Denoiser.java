package io.dyndit.sampling;

/**
 * One network evaluation inside the sampling loop. Implemented by the models; the sampler never asks
 * which method (DiT, DyDiT, FlexiDiT, DiffCR) is behind it: per-step compute decisions are the
 * model's step plan, reported back through {@link Evaluation#macs()}.
 *
 * <p>Thread-safety: implementations say; the models' denoisers are safe to share between threads.
 */
public interface Denoiser {
    /** Held by one generation for all its steps (see {@link #reserve()}); close() gives it back. */
    @FunctionalInterface
    interface Reservation extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Keeps the calling thread's evaluation state (workspaces, device buffers) for a whole generation, so steps
     * reuse it and device outputs stay valid until the next step. Default: nothing to keep.
     */
    default Reservation reserve() {
        return () -> {};
    }

    /**
     * As {@link #reserve()}, for a generation that evaluates these model timesteps in this order (loop step k at
     * {@code modelTimesteps[k]}): an implementation may prepare per-step work ahead (the models: the adaLN
     * conditioning of several steps in one pass over its weights, bit for bit what each step makes alone). Default:
     * {@link #reserve()}.
     */
    default Reservation reserve(long[] modelTimesteps) {
        return reserve();
    }

    /**
     * Model output for latents {@code x} [N,C,I,I] (row-major) at loop step {@code step} (0 = first step),
     * original-scale timestep {@code modelTimestep} (the same for the whole batch) and labels {@code y} [N].
     * With {@code cfgScale} != 1 the batch is the official guidance layout [z; z] with y = [labels; null]
     * and the result is forward_with_cfg's; with 1 it is the plain forward.
     */
    Evaluation evaluate(float[] x, long[] y, int step, long modelTimestep, double cfgScale);

    /** Latent channels C, latent side I, output channels Co (2C with learned sigma). */
    int inChannels();

    int inputSize();

    int outChannels();

    /** The null (unconditional) class label, or -1 when the model has none. */
    long nullClass();

    /** Multiply-accumulates a static (undynamic) evaluation of one sample costs. */
    double staticMacsPerSample();

    /**
     * Output [N,Co,I,I] of one evaluation and the multiply-accumulates it executed (whole batch), in total and
     * per block for attention and MLP (empty arrays when the model does not break it down).
     */
    record Evaluation(float[] output, double macs, double[] attnMacs, double[] mlpMacs) {
        public Evaluation(float[] output, double macs) {
            this(output, macs, new double[0], new double[0]);
        }
    }
}
