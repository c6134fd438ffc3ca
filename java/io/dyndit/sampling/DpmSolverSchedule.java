package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;

/**
 * diffusers' DPMSolverMultistepScheduler as DiT pipelines run it (dpmsolver++, midpoint, epsilon, linear betas
 * 1e-4..0.02, timestep spacing "linspace", lower_order_final, final sigma zero), with its float32 tables and scalars
 * computed in the same order (shared/docs/dpm-solver-reference.md):
 * <pre>
 * ᾱ_k   = Π (1 − β_j)  (float32 factors, a double running product, each ᾱ_k rounded to float32)
 * ρ_k   = sqrt((1 − ᾱ_k) / ᾱ_k)                         (diffusers' "sigmas")
 * t_i   = rint(g_{N−i}), g = linspace(0, 999, N+1)     (i = 0..N−1, the 0 dropped), ρ̂_N = 0
 * α_i   = 1 / sqrt(ρ̂_i² + 1), σ_i = ρ̂_i α_i, λ_i = ln α_i − ln σ_i
 * </pre>
 * Step i goes from ρ̂_i to ρ̂_{i+1}; its order is 1 at the first and last step, then up to the solver order.
 *
 * <p>Thread-safety: immutable after construction, safe to share.
 */
public final class DpmSolverSchedule {
    static final int TRAIN = DiffusionSchedule.TRAINING_TIMESTEPS;

    private final int solverOrder;
    private final long[] timesteps;
    private final float[] rho;    // N + 1 entries, the last 0
    private final float[] alpha, sigma, lambda;

    public DpmSolverSchedule(int steps, int solverOrder) {
        if (solverOrder < 1 || solverOrder > 3) {
            throw new InvalidArgumentException("DPM-Solver++ order must be 1, 2 or 3, got " + solverOrder);
        }
        if (steps < solverOrder || steps > TRAIN - 1) {
            throw new InvalidArgumentException("DPM-Solver++ (order " + solverOrder + ") needs between " + solverOrder
                    + " and " + (TRAIN - 1) + " steps, got " + steps);
        }
        this.solverOrder = solverOrder;
        float[] rhoTrain = trainingRho();
        timesteps = new long[steps];
        rho = new float[steps + 1];
        double spacing = 999.0 / steps;
        for (int i = 0; i < steps; i++) {
            timesteps[i] = (long) Math.rint((steps - i) * spacing);
            rho[i] = rhoTrain[(int) timesteps[i]];
        }
        rho[steps] = 0f;
        alpha = new float[steps + 1];
        sigma = new float[steps + 1];
        lambda = new float[steps + 1];
        for (int i = 0; i <= steps; i++) {
            float r = rho[i];
            alpha[i] = 1f / (float) Math.sqrt(r * r + 1f);
            sigma[i] = r * alpha[i];
            lambda[i] = (float) Math.log(alpha[i]) - (float) Math.log(sigma[i]); // +inf at the final sigma 0
        }
    }

    /** ρ_k for k = 0..999 in float32, as the scheduler's constructor builds it. */
    static float[] trainingRho() {
        float[] betas = torchLinspace(1e-4f, 0.02f, TRAIN);
        float[] out = new float[TRAIN];
        double prod = 1.0;
        for (int k = 0; k < TRAIN; k++) {
            float alphaK = 1f - betas[k];
            prod *= alphaK; // torch's CPU cumprod: a double accumulator, each output rounded to float32
            float ab = (float) prod;
            out[k] = (float) Math.sqrt((1f - ab) / ab);
        }
        return out;
    }

    /** torch.linspace in float32: from both ends towards the middle with a float32 step. */
    private static float[] torchLinspace(float start, float end, int n) {
        float[] v = new float[n];
        float step = (end - start) / (n - 1);
        int half = n / 2;
        for (int i = 0; i < n; i++) {
            v[i] = i < half ? start + step * i : end - step * (n - i - 1);
        }
        return v;
    }

    public int steps() {
        return timesteps.length;
    }

    public int solverOrder() {
        return solverOrder;
    }

    /** The integer timestep the model receives at step i. */
    public long timestep(int i) {
        return timesteps[i];
    }

    /** ρ̂_i (diffusers' sigmas[i]); i = steps() gives the final 0. */
    public float sigmaTable(int i) {
        return rho[i];
    }

    /** The order step i uses (lower_order_final: 1 at the last step, 2 at the second-to-last below 15 steps). */
    public int order(int i) {
        int n = timesteps.length;
        if (solverOrder == 1 || i == 0 || i == n - 1) {
            return 1;
        }
        if (solverOrder == 2 || i == 1 || (i == n - 2 && n < 15)) {
            return 2;
        }
        return 3;
    }

    /** x0 = (x − σ_i ε) / α_i: the data prediction's float32 scalars {σ_i, α_i}. */
    float[] x0Coefs(int i) {
        return new float[] {sigma[i], alpha[i]};
    }

    /**
     * The update's float32 scalars for step i, in diffusers' order of evaluation:
     * order 1: {ratio, α_t·φ}; order 2: {ratio, α_t·φ, 0.5·(α_t·φ), 1/r0};
     * order 3: {ratio, α_t·φ, α_t·(φ/h + 1), α_t·((φ + h)/h² − 0.5), 1/r0, 1/r1, r0/(r0 + r1), 1/(r0 + r1)},
     * with h = λ_{i+1} − λ_i, φ = e^{−h} − 1, ratio = σ_{i+1}/σ_i, r0 = (λ_i − λ_{i−1})/h, r1 = (λ_{i−1} − λ_{i−2})/h.
     */
    float[] updateCoefs(int i) {
        int order = order(i);
        float h = lambda[i + 1] - lambda[i];
        float phi = (float) Math.exp(-h) - 1f;
        float ratio = sigma[i + 1] / sigma[i];
        float c0 = alpha[i + 1] * phi;
        if (order == 1) {
            return new float[] {ratio, c0};
        }
        float r0 = (lambda[i] - lambda[i - 1]) / h;
        if (order == 2) {
            return new float[] {ratio, c0, 0.5f * c0, 1f / r0};
        }
        float r1 = (lambda[i - 1] - lambda[i - 2]) / h;
        float cD1 = alpha[i + 1] * (phi / h + 1f);
        float cD2 = alpha[i + 1] * ((phi + h) / (h * h) - 0.5f);
        return new float[] {ratio, c0, cD1, cD2, 1f / r0, 1f / r1, r0 / (r0 + r1), 1f / (r0 + r1)};
    }
}
