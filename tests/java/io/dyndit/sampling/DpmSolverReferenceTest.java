package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * DPM-Solver++ orders 1-3 against a float64 evaluation of the reference formulas (shared/docs/dpm-solver-reference.md
 * section 5) on random latents and histories, and an analytic fact: when every data prediction is exact (a single
 * data point x*), each step lands exactly on α x* + σ ε, so the loop ends at x*.
 */
class DpmSolverReferenceTest {
    private static double[] scalars(int steps, int i) {
        // float64 from the float32 table, as the reference implementation
        DpmSolverSchedule s = new DpmSolverSchedule(steps, 3);
        double rho = s.sigmaTable(i);
        double a = 1 / Math.sqrt(rho * rho + 1);
        return new double[] {a, rho * a, Math.log(a) - Math.log(rho * a)};
    }

    @Test
    void ordersTwoAndThreeMatchAFloat64Reference() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int steps = 20;
        DpmSolverSchedule s = new DpmSolverSchedule(steps, 3);
        BatchLayout l = new BatchLayout(2, 4, 8, 16);
        int n = 2 * 4 * 16;
        for (int round = 0; round < 20 * (steps - 1); round++) {
            int i = round % (steps - 1);
            float[] x = new float[n], out = new float[2 * 8 * 16], m1 = new float[n], m2 = new float[n];
            for (int e = 0; e < n; e++) {
                x[e] = (float) (r.nextGaussian() * 3);
                m1[e] = (float) r.nextGaussian();
                m2[e] = (float) r.nextGaussian();
            }
            for (int e = 0; e < out.length; e++) {
                out[e] = (float) r.nextGaussian();
            }
            float[] m0 = new float[n], next = new float[n];
            DpmSolverUpdate.apply(s, i, l, x, out, m1, m2, m0, next);
            double[] si = scalars(steps, i), st = i + 1 < steps ? scalars(steps, i + 1) : null;
            double at = st[0], sgt = st[1], h = st[2] - si[2], phi = Math.expm1(-h);
            int order = s.order(i);
            for (int b = 0; b < 2; b++) {
                for (int c = 0; c < 4; c++) {
                    for (int p = 0; p < 16; p++) {
                        int e = l.latent(b, c) + p;
                        double eps = out[l.output(b, c) + p], x0 = (x[e] - si[1] * eps) / si[0];
                        double v = sgt / si[1] * x[e] - at * phi * x0;
                        if (order >= 2) {
                            double[] sp = scalars(steps, i - 1);
                            double r0 = (si[2] - sp[2]) / h, d10 = (x0 - m1[e]) / r0;
                            if (order == 2) {
                                v -= 0.5 * at * phi * d10;
                            } else {
                                double r1 = (sp[2] - scalars(steps, i - 2)[2]) / h, d11 = (m1[e] - m2[e]) / r1;
                                double d1 = d10 + r0 / (r0 + r1) * (d10 - d11), d2 = (d10 - d11) / (r0 + r1);
                                v += at * (phi / h + 1) * d1 - at * ((phi + h) / (h * h) - 0.5) * d2;
                            }
                        }
                        double scale = Math.max(1, Math.max(Math.abs(v), Math.abs(x0)));
                        // x − σε cancels: float32 rounds x and σε (a few units of 2^-24 of their size), then / α
                        double x0Tol = 4 * 0x1p-24 * (Math.abs(x[e]) + Math.abs(si[1] * eps)) / si[0] + 1e-6 * Math.abs(x0);
                        assertEquals(x0, m0[e], x0Tol, "x0 step " + i + " (seed " + seed + ")");
                        assertEquals(v, next[e], 2e-5 * scale, "order " + order + " step " + i + " (seed " + seed + ")");
                    }
                }
            }
        }
    }

    /** A denoiser whose ε is exact for the single data point x*: ε = (x − α_t x*) / σ_t. */
    @Test
    void exactDataPredictionsLandOnTheDataPoint() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        for (int order : new int[] {2, 3}) {
            int steps = 12, c = 2, size = 4, per = c * size * size;
            float[] star = new float[per];
            for (int e = 0; e < per; e++) {
                star[e] = (float) r.nextGaussian();
            }
            DpmSolverSchedule s = new DpmSolverSchedule(steps, order);
            int[] k = {0};
            Denoiser exact = new FakeDenoiser(c, size, false, 10) {
                @Override
                public Evaluation evaluate(float[] x, long[] y, int step, long t, double cfg) {
                    assertEquals(s.timestep(step), t);
                    double rho = s.sigmaTable(step), a = 1 / Math.sqrt(rho * rho + 1), sg = rho * a;
                    float[] eps = new float[x.length];
                    for (int e = 0; e < x.length; e++) {
                        eps[e] = (float) ((x[e] - a * star[e % per]) / sg);
                    }
                    k[0]++;
                    return new Evaluation(eps, 0);
                }
            };
            GenerationResult g = new DiffusionSampler(exact).generate(GenerationRequest.builder().labels(1).steps(steps)
                    .cfgScale(1).seed(seed).sampler(order == 2 ? SamplerType.DPMPP_2M : SamplerType.DPMPP_3M).build());
            assertEquals(steps, k[0]);
            for (int e = 0; e < per; e++) {
                // x0 at t = 999 is (x − σε)/α with α = 0.0064: float32 rounding of x and ε is amplified by 1/α
                assertTrue(Math.abs(g.samples()[e] - star[e]) < 1e-3, "order " + order + " element " + e + ": "
                        + g.samples()[e] + " vs " + star[e] + " (seed " + seed + ")");
            }
        }
    }
}
