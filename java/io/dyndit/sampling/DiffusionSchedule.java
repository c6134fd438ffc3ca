package io.dyndit.sampling;

/**
 * The float64 coefficient tables of the official GaussianDiffusion (diffusion/gaussian_diffusion.py) for one beta
 * sequence, computed with the same operations in the same order so the tables match numpy bit for bit. A respaced
 * schedule (SpacedDiffusion) is built exactly like the official one: new betas from the base ᾱ at the kept timesteps,
 * then every table recomputed from those betas (so ᾱ' is a fresh cumulative product, not a copy of ᾱ[t]).
 *
 * <p>The one deliberate difference: logarithms use {@link Math#log}, which is correctly rounded on these inputs,
 * while numpy on AVX-512 machines uses its SIMD log, which is off by one ulp for about a quarter of the entries (the
 * golden tables were written that way). The float32 values the sampler applies are identical either way.
 *
 * <p>Index i is the respaced index (0 = least noisy); {@link #timestep(int)} maps it to the original timestep the model
 * receives. Where the official code has no value (posterior_log_variance_clipped with a single step) the table holds
 * NaN: the only user is the variance of the last step, which never adds noise.
 *
 * <p>Thread-safety: immutable after construction, safe to share.
 */
public final class DiffusionSchedule {
    /** The official number of training timesteps (create_diffusion's diffusion_steps). */
    public static final int TRAINING_TIMESTEPS = 1000;

    final long[] timestepMap;
    final double[] betas;
    final double[] alphasCumprod;
    final double[] alphasCumprodPrev;
    final double[] sqrtRecipAlphasCumprod;
    final double[] sqrtRecipm1AlphasCumprod;
    final double[] posteriorVariance;
    final double[] posteriorLogVarianceClipped;
    final double[] posteriorMeanCoef1;
    final double[] posteriorMeanCoef2;
    final double[] logBetas;
    /** FIXED_LARGE's log variance: log([posterior_variance[1], betas[1:]]). */
    final double[] fixedLargeLogVariance;

    private DiffusionSchedule(double[] betas, long[] timestepMap) {
        int s = betas.length;
        this.timestepMap = timestepMap;
        this.betas = betas;
        alphasCumprod = new double[s];
        double prod = 1.0;
        for (int i = 0; i < s; i++) {
            prod *= 1.0 - betas[i]; // np.cumprod(1.0 - betas): sequential product
            alphasCumprod[i] = prod;
        }
        alphasCumprodPrev = new double[s];
        alphasCumprodPrev[0] = 1.0;
        System.arraycopy(alphasCumprod, 0, alphasCumprodPrev, 1, s - 1);
        sqrtRecipAlphasCumprod = new double[s];
        sqrtRecipm1AlphasCumprod = new double[s];
        posteriorVariance = new double[s];
        posteriorMeanCoef1 = new double[s];
        posteriorMeanCoef2 = new double[s];
        logBetas = new double[s];
        for (int i = 0; i < s; i++) {
            double ac = alphasCumprod[i], prev = alphasCumprodPrev[i], beta = betas[i];
            sqrtRecipAlphasCumprod[i] = Math.sqrt(1.0 / ac);
            sqrtRecipm1AlphasCumprod[i] = Math.sqrt(1.0 / ac - 1);
            posteriorVariance[i] = beta * (1.0 - prev) / (1.0 - ac);
            posteriorMeanCoef1[i] = beta * Math.sqrt(prev) / (1.0 - ac);
            posteriorMeanCoef2[i] = (1.0 - prev) * Math.sqrt(1.0 - beta) / (1.0 - ac);
            logBetas[i] = Math.log(beta);
        }
        posteriorLogVarianceClipped = new double[s];
        fixedLargeLogVariance = new double[s];
        for (int i = 0; i < s; i++) {
            double first = s > 1 ? posteriorVariance[1] : Double.NaN; // index 0 borrows index 1 (log 0 = -inf)
            posteriorLogVarianceClipped[i] = Math.log(i == 0 ? first : posteriorVariance[i]);
            fixedLargeLogVariance[i] = Math.log(i == 0 ? first : betas[i]);
        }
    }

    /** The official linear schedule: np.linspace(1e-4, 0.02, 1000, dtype=float64), timesteps unchanged. */
    public static DiffusionSchedule linear() {
        int n = TRAINING_TIMESTEPS;
        long[] identity = new long[n];
        for (int i = 0; i < n; i++) {
            identity[i] = i;
        }
        return new DiffusionSchedule(linspace(1e-4, 0.02, n), identity);
    }

    /** create_diffusion(str(steps)): the linear schedule respaced to {@code steps} (1..1000) steps. */
    public static DiffusionSchedule respaced(int steps) {
        return linear().respace(Respacing.timestepMap(TRAINING_TIMESTEPS, steps));
    }

    /** SpacedDiffusion.__init__: betas' = 1 - ᾱ[t]/ᾱ[previous kept t] over the kept timesteps, ascending. */
    DiffusionSchedule respace(long[] kept) {
        double[] newBetas = new double[kept.length];
        long[] map = new long[kept.length];
        double last = 1.0;
        for (int k = 0; k < kept.length; k++) {
            int t = Math.toIntExact(kept[k]);
            double ac = alphasCumprod[t];
            newBetas[k] = 1 - ac / last;
            last = ac;
            map[k] = timestepMap[t];
        }
        return new DiffusionSchedule(newBetas, map);
    }

    /** numpy's linspace: y[i] = i * ((stop - start) / (num - 1)) + start, and y[num-1] = stop exactly. */
    static double[] linspace(double start, double stop, int num) {
        double[] y = new double[num];
        double step = (stop - start) / (num - 1);
        for (int i = 0; i < num; i++) {
            y[i] = i * step + start;
        }
        y[num - 1] = stop;
        return y;
    }

    public int steps() {
        return betas.length;
    }

    /** The original timestep the model receives at respaced index i (timestep_map[i]). */
    public long timestep(int i) {
        return timestepMap[i];
    }

    public long[] timestepMap() {
        return timestepMap.clone();
    }

    public double[] betas() {
        return betas.clone();
    }

    public double[] alphasCumprod() {
        return alphasCumprod.clone();
    }

    public double[] alphasCumprodPrev() {
        return alphasCumprodPrev.clone();
    }

    public double[] posteriorVariance() {
        return posteriorVariance.clone();
    }

    public double[] posteriorLogVarianceClipped() {
        return posteriorLogVarianceClipped.clone();
    }

    public double[] posteriorMeanCoef1() {
        return posteriorMeanCoef1.clone();
    }

    public double[] posteriorMeanCoef2() {
        return posteriorMeanCoef2.clone();
    }
}
