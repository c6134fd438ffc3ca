package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import java.util.Locale;

/**
 * Which reverse-diffusion update the loop applies: the official p_sample or ddim_sample over DiT's respaced
 * schedule, or diffusers' DPM-Solver++ multistep (what DiTPipeline users run, ~25 steps).
 *
 * <p>Thread-safety: immutable (an enum), safe to share.
 */
public enum SamplerType {
    /** Ancestral DDPM sampling (p_sample_loop), the default of the official sample.py. */
    DDPM("ddpm", 250),
    /** DDIM (ddim_sample_loop) with parameter eta; eta = 0 is deterministic after the initial latent. */
    DDIM("ddim", 50),
    /** DPM-Solver++(2M), diffusers' DPMSolverMultistepScheduler with solver_order 2 (deterministic). */
    DPMPP_2M("dpm++2m", 25),
    /** DPM-Solver++(3M): solver_order 3; needs at least 3 steps. */
    DPMPP_3M("dpm++3m", 25);

    private final String cliName;
    private final int defaultSteps;

    SamplerType(String cliName, int defaultSteps) {
        this.cliName = cliName;
        this.defaultSteps = defaultSteps;
    }

    /** "ddpm", "ddim", "dpm++2m" or "dpm++3m", case-insensitive. */
    public static SamplerType parse(String name) {
        for (SamplerType s : values()) {
            if (s.cliName.equals(name.toLowerCase(Locale.ROOT))) {
                return s;
            }
        }
        throw new InvalidArgumentException("unknown sampler '" + name + "' (expected ddpm, ddim, dpm++2m or dpm++3m)");
    }

    public String cliName() {
        return cliName;
    }

    /** The steps people run this sampler with when they do not say (official 250 for DDPM, 25 for DPM-Solver++). */
    public int defaultSteps() {
        return defaultSteps;
    }

    /** DPM-Solver++ order (2 or 3), 0 for the official samplers. */
    public int dpmOrder() {
        return this == DPMPP_2M ? 2 : this == DPMPP_3M ? 3 : 0;
    }

    /** Whether a step adds fresh noise (DDPM; DDIM only with eta > 0). */
    boolean addsNoise(double eta) {
        return this == DDPM || this == DDIM && eta > 0;
    }
}
