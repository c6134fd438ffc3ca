package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import java.util.Locale;

/**
 * Which reverse-diffusion update the loop applies (the official p_sample or ddim_sample).
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum SamplerType {
    /** Ancestral DDPM sampling (p_sample_loop), the default of the official sample.py. */
    DDPM,
    /** DDIM (ddim_sample_loop) with parameter eta; eta = 0 is deterministic after the initial latent. */
    DDIM;

    /** "ddpm" or "ddim", case-insensitive. */
    public static SamplerType parse(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "ddpm" -> DDPM;
            case "ddim" -> DDIM;
            default -> throw new InvalidArgumentException("unknown sampler '" + name + "' (expected ddpm or ddim)");
        };
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
