package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.io.JsonParser;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The float32 loops against double-precision references written here from the papers' formulas (not the official
 * code's rearranged ones): ᾱ'_k = ᾱ[timestep_map[k]] directly, x0 = (x − √(1−ᾱ)·ε)/√ᾱ, and
 * <ul>
 *   <li>DDIM: x' = √ᾱ_prev·x0 + √(1−ᾱ_prev−σ²)·ε + σ·z, σ = η·√((1−ᾱ_prev)/(1−ᾱ))·√(1−ᾱ/ᾱ_prev);</li>
 *   <li>DDPM: x' = μ̃(x, x0) + σ·z with μ̃ = (√ᾱ_prev·β/(1−ᾱ))·x0 + (√α·(1−ᾱ_prev)/(1−ᾱ))·x and log σ² =
 *       frac·log β + (1−frac)·log β̃ (learned range, β̃ at index 0 borrowed from index 1) or log β (fixed large).</li>
 * </ul>
 * The inputs are fresh: a seeded random x_T and a smooth stand-in model ({@link FakeDenoiser}); the step noise is
 * taken from the loop's trace. timestep_map comes from respacing.json, not from the code under test.
 */
class SamplerReferenceTest {
    /**
     * float32 rounding (6e-8 relative) is amplified by up to √(1/ᾱ) ≈ 157 in x0 at the noisiest step and
     * accumulates over 50 steps: about 1e-5 at worst; observed (printed) 1.5e-6 to 2.7e-6. A formula error
     * (wrong coefficient, σ or timestep) shows up at 1e-3 or more.
     */
    private static final double TOLERANCE = 2e-5;

    @SuppressWarnings("unchecked")
    private static long[] goldenMap(int steps) throws Exception {
        String text = Files.readString(SamplingGolden.file("respacing", "respacing.json"));
        Map<String, Object> cases = (Map<String, Object>) JsonParser.parseObject(text).get("cases");
        List<?> map = (List<?>) ((Map<String, Object>) cases.get(Integer.toString(steps))).get("timestep_map");
        return map.stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    }

    /** ᾱ of the original 1000-step linear schedule, from the betas' definition. */
    private static double[] alphaBar() {
        double[] ab = new double[1000];
        double prod = 1;
        for (int t = 0; t < 1000; t++) {
            prod *= 1 - (1e-4 + t * (0.02 - 1e-4) / 999);
            ab[t] = prod;
        }
        return ab;
    }

    @ParameterizedTest(name = "{0} eta={1} learnSigma={2}")
    @CsvSource({"DDIM, 0.0, true", "DDIM, 0.7, true", "DDIM, 1.0, false", "DDPM, 0.0, true", "DDPM, 0.0, false"})
    void loopMatchesDoubleReference(SamplerType sampler, double eta, boolean learnSigma) throws Exception {
        int steps = 50, c = 3, size = 4, per = c * size * size;
        FakeDenoiser model = new FakeDenoiser(c, size, learnSigma, -1);
        List<StepTrace> trace = new ArrayList<>();
        GenerationRequest r = GenerationRequest.builder().labels(1, 4).steps(steps).sampler(sampler).eta(eta)
                .cfgScale(1).seed(77).inspector(t -> trace.add(t)).build();
        GenerationResult result = new DiffusionSampler(model).generate(r);

        long[] map = goldenMap(steps);
        double[] abT = alphaBar();
        double[] x = new double[2 * per];
        float[] z = trace.get(0).xIn();
        for (int e = 0; e < x.length; e++) {
            x[e] = z[e];
        }
        double worst = 0;
        for (int k = 0; k < steps; k++) {
            int i = steps - 1 - k;
            StepTrace t = trace.get(k);
            assertEquals(map[i], t.timestep(), "model timestep at step " + k);
            double ab = abT[(int) map[i]], abPrev = i > 0 ? abT[(int) map[i - 1]] : 1, beta = 1 - ab / abPrev;
            for (int b = 0; b < 2; b++) {
                double[] row = java.util.Arrays.copyOfRange(x, b * per, (b + 1) * per);
                double[] out = model.reference(row, map[i]);
                for (int e = 0; e < per; e++) {
                    double eps = out[e];
                    double x0 = (row[e] - Math.sqrt(1 - ab) * eps) / Math.sqrt(ab);
                    double next;
                    double z0 = t.noise() == null ? 0 : t.noise()[b * per + e];
                    if (sampler == SamplerType.DDIM) {
                        double sigma = eta * Math.sqrt((1 - abPrev) / (1 - ab)) * Math.sqrt(1 - ab / abPrev);
                        next = Math.sqrt(abPrev) * x0 + Math.sqrt(1 - abPrev - sigma * sigma) * eps + sigma * z0;
                    } else {
                        double mean = Math.sqrt(abPrev) * beta / (1 - ab) * x0 + Math.sqrt(1 - beta) * (1 - abPrev)
                                / (1 - ab) * row[e];
                        double logVar = Math.log(beta);
                        if (learnSigma) {
                            double frac = (out[per + e] + 1) / 2;
                            logVar = frac * Math.log(beta) + (1 - frac) * Math.log(posteriorVariance(abT, map, i == 0 ? 1 : i));
                        }
                        next = mean + (i > 0 ? Math.exp(0.5 * logVar) * z0 : 0);
                    }
                    x[b * per + e] = next;
                    worst = Math.max(worst, check(next, t.sample()[b * per + e], "step " + k + " [" + b + "," + e + "]"));
                }
            }
        }
        for (int e = 0; e < 2 * per; e++) {
            check(x[e], result.samples()[e], "samples[" + e + "]");
        }
        System.out.printf("%s eta=%s learnSigma=%s: max relative error vs double reference %.3g%n", sampler, eta,
                learnSigma, worst);
    }

    private static double posteriorVariance(double[] abT, long[] map, int i) {
        double ab = abT[(int) map[i]], abPrev = i > 0 ? abT[(int) map[i - 1]] : 1, beta = 1 - ab / abPrev;
        return beta * (1 - abPrev) / (1 - ab);
    }

    private static double check(double ref, float got, String what) {
        double rel = Math.abs(got - ref) / Math.max(1, Math.abs(ref));
        if (!(rel <= TOLERANCE)) {
            throw new AssertionError(what + ": got " + got + ", double reference " + ref);
        }
        return rel;
    }
}
