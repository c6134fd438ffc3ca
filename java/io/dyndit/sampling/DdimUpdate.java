package io.dyndit.sampling;

/**
 * One official ddim_sample step (clip_denoised=False) in float32, in PyTorch's order. ᾱ and ᾱ_prev enter as float32
 * scalars and σ is computed from them in float32, as the official code does:
 * <pre>
 * x0   = sqrt_recip_ᾱ·x − sqrt_recipm1_ᾱ·ε                       (p_mean_variance's pred_xstart)
 * ε'   = (sqrt_recip_ᾱ·x − x0) / sqrt_recipm1_ᾱ                  (_predict_eps_from_xstart)
 * σ    = η·sqrt((1 − ᾱ_prev)/(1 − ᾱ))·sqrt(1 − ᾱ/ᾱ_prev)
 * x'   = x0·sqrt(ᾱ_prev) + sqrt(1 − ᾱ_prev − σ²)·ε' + [i ≠ 0]·σ·noise
 * </pre>
 * The model's variance channels, if any, are ignored.
 */
final class DdimUpdate {
    private DdimUpdate() {}

    /** σ of respaced index i in float32; 0 when eta is 0. */
    static float sigma(DiffusionSchedule s, int i, double eta) {
        float ab = (float) s.alphasCumprod[i];
        float abPrev = (float) s.alphasCumprodPrev[i];
        float a = (float) Math.sqrt((1f - abPrev) / (1f - ab));
        float b = (float) Math.sqrt(1f - ab / abPrev);
        return (float) eta * a * b;
    }

    /** The step's float32 scalars, in dd_ddim_update's order: sqrt_recip, sqrt_recipm1, sqrt(ᾱ_prev), dir, σ. */
    static float[] coefs(DiffusionSchedule s, int i, double eta) {
        float abPrev = (float) s.alphasCumprodPrev[i];
        float sigma = sigma(s, i, eta);
        return new float[] {(float) s.sqrtRecipAlphasCumprod[i], (float) s.sqrtRecipm1AlphasCumprod[i],
            (float) Math.sqrt(abPrev), (float) Math.sqrt(1f - abPrev - sigma * sigma), sigma};
    }

    /** Writes pred_xstart and the new latent; noise is only read when σ != 0 and i != 0 (may be null otherwise). */
    static void apply(DiffusionSchedule s, int i, double eta, BatchLayout l, float[] x, float[] out, float[] noise,
            float[] predXstart, float[] next) {
        float[] k = coefs(s, i, eta);
        float sqrtRecip = k[0], sqrtRecipm1 = k[1], sqrtAbPrev = k[2], dirCoef = k[3], sigma = k[4];
        boolean addNoise = i != 0 && sigma != 0f;
        for (int b = 0; b < l.batch(); b++) {
            for (int ch = 0; ch < l.channels(); ch++) {
                int xo = l.latent(b, ch), eo = l.output(b, ch);
                for (int p = 0; p < l.plane(); p++) {
                    float xv = x[xo + p];
                    float x0 = sqrtRecip * xv - sqrtRecipm1 * out[eo + p];
                    float eps = (sqrtRecip * xv - x0) / sqrtRecipm1;
                    float mean = x0 * sqrtAbPrev + dirCoef * eps;
                    predXstart[xo + p] = x0;
                    next[xo + p] = addNoise ? mean + sigma * noise[xo + p] : mean;
                }
            }
        }
    }
}
