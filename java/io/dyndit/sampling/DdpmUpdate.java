package io.dyndit.sampling;

/**
 * One official p_sample step (clip_denoised=False, ε prediction) in float32, operation for operation as PyTorch
 * evaluates it; the float64 tables enter as float32 scalars, like {@code _extract_into_tensor(...).float()}:
 * <pre>
 * x0     = sqrt_recip_ᾱ·x − sqrt_recipm1_ᾱ·ε
 * mean   = coef1·x0 + coef2·x
 * frac   = (v + 1)/2;  logvar = frac·log β + (1 − frac)·post_logvar_clipped      (LEARNED_RANGE)
 * sample = mean + [i ≠ 0]·exp(0.5·logvar)·noise
 * </pre>
 */
final class DdpmUpdate {
    private DdpmUpdate() {}

    /**
     * The step's float32 scalars, in dd_ddpm_update's order: sqrt_recip, sqrt_recipm1, coef1, coef2, log β,
     * posterior log variance (clipped), fixed-large log variance.
     */
    static float[] coefs(DiffusionSchedule s, int i) {
        return new float[] {(float) s.sqrtRecipAlphasCumprod[i], (float) s.sqrtRecipm1AlphasCumprod[i],
            (float) s.posteriorMeanCoef1[i], (float) s.posteriorMeanCoef2[i], (float) s.logBetas[i],
            (float) s.posteriorLogVarianceClipped[i], (float) s.fixedLargeLogVariance[i]};
    }

    /** Writes pred_xstart and the new latent for respaced index i; noise is unused (may be null) at i = 0. */
    static void apply(DiffusionSchedule s, int i, VarianceType variance, BatchLayout l, float[] x, float[] out,
            float[] noise, float[] predXstart, float[] next) {
        float[] k = coefs(s, i);
        float sqrtRecip = k[0], sqrtRecipm1 = k[1], coef1 = k[2], coef2 = k[3], maxLog = k[4], minLog = k[5];
        float fixedLog = k[6];
        boolean addNoise = i != 0;
        for (int b = 0; b < l.batch(); b++) {
            for (int ch = 0; ch < l.channels(); ch++) {
                int xo = l.latent(b, ch), eo = l.output(b, ch);
                int vo = variance == VarianceType.LEARNED_RANGE ? l.output(b, l.channels() + ch) : -1;
                for (int p = 0; p < l.plane(); p++) {
                    float xv = x[xo + p];
                    float x0 = sqrtRecip * xv - sqrtRecipm1 * out[eo + p];
                    float mean = coef1 * x0 + coef2 * xv;
                    predXstart[xo + p] = x0;
                    if (addNoise) {
                        float logVar;
                        if (vo >= 0) {
                            float frac = (out[vo + p] + 1f) / 2f;
                            logVar = frac * maxLog + (1f - frac) * minLog;
                        } else {
                            logVar = fixedLog;
                        }
                        float std = (float) Math.exp(0.5f * logVar);
                        next[xo + p] = mean + std * noise[xo + p];
                    } else {
                        next[xo + p] = mean;
                    }
                }
            }
        }
    }
}
