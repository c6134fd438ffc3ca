package io.dyndit.sampling;

/**
 * One DPM-Solver++ multistep step in float32, term by term in diffusers' order (see {@link DpmSolverSchedule}):
 * <pre>
 * m0 = x0 = (x − σ_i ε) / α_i                 ε = the first C channels of the model output
 * order 1: x' = ratio·x − (α_t φ)·m0
 * order 2: x' = (ratio·x − (α_t φ)·m0) − (0.5 α_t φ)·((1/r0)(m0 − m1))
 * order 3: D1₀ = (1/r0)(m0 − m1), D1₁ = (1/r1)(m1 − m2), D1 = D1₀ + (r0/(r0+r1))(D1₀ − D1₁), D2 = (1/(r0+r1))(D1₀ − D1₁)
 *          x' = ((ratio·x − (α_t φ)·m0) + (α_t(φ/h + 1))·D1) − (α_t((φ + h)/h² − 0.5))·D2
 * </pre>
 * m1, m2 are the data predictions of the previous steps (the caller keeps them).
 */
final class DpmSolverUpdate {
    private DpmSolverUpdate() {}

    /** dd_dpm_update's coefficients of step i: the data prediction's {σ_i, α_i}, then the update's. */
    static float[] coefs(DpmSolverSchedule s, int i) {
        float[] x0 = s.x0Coefs(i), k = s.updateCoefs(i), all = new float[2 + k.length];
        System.arraycopy(x0, 0, all, 0, 2);
        System.arraycopy(k, 0, all, 2, k.length);
        return all;
    }

    /** Writes the data prediction m0 of step i and the new latent; m1/m2 are read when the step's order needs them. */
    static void apply(DpmSolverSchedule s, int i, BatchLayout l, float[] x, float[] out, float[] m1, float[] m2,
            float[] m0, float[] next) {
        float[] xc = s.x0Coefs(i);
        float sig = xc[0], alp = xc[1];
        float[] k = s.updateCoefs(i);
        int order = k.length == 2 ? 1 : k.length == 4 ? 2 : 3;
        for (int b = 0; b < l.batch(); b++) {
            for (int ch = 0; ch < l.channels(); ch++) {
                int xo = l.latent(b, ch), eo = l.output(b, ch);
                for (int p = 0; p < l.plane(); p++) {
                    int e = xo + p;
                    float x0 = (x[e] - sig * out[eo + p]) / alp;
                    m0[e] = x0;
                    float v = k[0] * x[e] - k[1] * x0;
                    if (order == 2) {
                        v = v - k[2] * (k[3] * (x0 - m1[e]));
                    } else if (order == 3) {
                        float d10 = k[4] * (x0 - m1[e]), d11 = k[5] * (m1[e] - m2[e]);
                        float d1 = d10 + k[6] * (d10 - d11), d2 = k[7] * (d10 - d11);
                        v = (v + k[2] * d1) - k[3] * d2;
                    }
                    next[e] = v;
                }
            }
        }
    }
}
