package io.dyndit.sampling;

/**
 * How DDPM gets the per-step variance. The official create_diffusion picks LEARNED_RANGE for models with learned
 * sigma (Co = 2C) and, with learn_sigma=False and its default sigma_small=False, FIXED_LARGE (Co = C).
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum VarianceType {
    /** log variance = frac·log β + (1 − frac)·posterior_log_variance_clipped, frac = (v + 1)/2 from the model. */
    LEARNED_RANGE,
    /** log variance = log([posterior_variance[1], β[1:]])[i], independent of the model output. */
    FIXED_LARGE;

    /** The official choice for a model with {@code inChannels} latent and {@code outChannels} output channels. */
    static VarianceType forChannels(int inChannels, int outChannels) {
        if (outChannels == 2 * inChannels) {
            return LEARNED_RANGE;
        }
        if (outChannels == inChannels) {
            return FIXED_LARGE;
        }
        throw new io.dyndit.core.ShapeMismatchException("the model outputs " + outChannels + " channels for "
                + inChannels + " latent channels; the sampler needs C (fixed variance) or 2C (learned variance)");
    }
}
