package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.InvalidArgumentException;
import io.dyndit.io.JsonParser;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Respacing and the float64 tables against the official create_diffusion(str(S)) (respacing.json, the DDPM case). */
class RespacingTest {
    @SuppressWarnings("unchecked")
    private static Map<String, Object> golden(int steps) throws Exception {
        String text = Files.readString(SamplingGolden.file("respacing", "respacing.json"));
        Map<String, Object> cases = (Map<String, Object>) JsonParser.parseObject(text).get("cases");
        return (Map<String, Object>) cases.get(Integer.toString(steps));
    }

    private static double[] doubles(Object list) {
        return ((List<?>) list).stream().mapToDouble(v -> ((Number) v).doubleValue()).toArray();
    }

    private static long[] longs(Object list) {
        return ((List<?>) list).stream().mapToLong(v -> ((Number) v).longValue()).toArray();
    }

    @ParameterizedTest
    @ValueSource(ints = {10, 50, 250})
    void timestepMapBetasAndCumprodAreExact(int steps) throws Exception {
        Map<String, Object> g = golden(steps);
        DiffusionSchedule s = DiffusionSchedule.respaced(steps);
        assertArrayEquals(longs(g.get("timestep_map")), s.timestepMap());
        assertArrayEquals(longs(g.get("timestep_map")), Respacing.timestepMap(1000, steps));
        assertArrayEquals(doubles(g.get("betas")), s.betas(), 0.0);
        assertArrayEquals(doubles(g.get("alphas_cumprod")), s.alphasCumprod(), 0.0);
    }

    /**
     * numpy's float64 log on the AVX-512 machine that wrote the golden files is not correctly rounded: for about a
     * quarter of the entries it is one ulp off (checked offline against a 60-digit logarithm; Java's Math.log and
     * glibc's log agree with each other and give the correctly rounded value). So: within one ulp, and the float32
     * values the sampler actually applies are identical.
     */
    @ParameterizedTest
    @ValueSource(ints = {10, 50, 250})
    void logVarianceWithinOneUlpAndIdenticalInFloat32(int steps) throws Exception {
        double[] ref = doubles(golden(steps).get("posterior_log_variance_clipped"));
        double[] got = DiffusionSchedule.respaced(steps).posteriorLogVarianceClipped();
        assertEquals(ref.length, got.length);
        for (int i = 0; i < ref.length; i++) {
            assertTrue(Math.abs(ref[i] - got[i]) <= Math.ulp(ref[i]), "index " + i + ": " + got[i] + " vs " + ref[i]);
            assertEquals((float) ref[i], (float) got[i], "float32 of index " + i);
        }
    }

    @Test
    void everyTableOfTheDdpmCaseMatches() {
        DiffusionSchedule s = DiffusionSchedule.respaced(10);
        try (TensorFile io = TensorFiles.open(SamplingGolden.file(SamplingGolden.DDPM_CASE, "io.safetensors"))) {
            assertArrayEquals(io.get("timestep_map").toLongArray(), s.timestepMap());
            assertArrayEquals(io.get("sched.betas").toDoubleArray(), s.betas(), 0.0);
            assertArrayEquals(io.get("sched.alphas_cumprod").toDoubleArray(), s.alphasCumprod(), 0.0);
            assertArrayEquals(io.get("sched.alphas_cumprod_prev").toDoubleArray(), s.alphasCumprodPrev(), 0.0);
            assertArrayEquals(io.get("sched.posterior_variance").toDoubleArray(), s.posteriorVariance(), 0.0);
            assertArrayEquals(io.get("sched.posterior_mean_coef1").toDoubleArray(), s.posteriorMeanCoef1(), 0.0);
            assertArrayEquals(io.get("sched.posterior_mean_coef2").toDoubleArray(), s.posteriorMeanCoef2(), 0.0);
            double[] ref = io.get("sched.posterior_log_variance_clipped").toDoubleArray();
            double[] got = s.posteriorLogVarianceClipped();
            for (int i = 0; i < ref.length; i++) {
                assertTrue(Math.abs(ref[i] - got[i]) <= Math.ulp(ref[i]), "index " + i);
            }
        }
    }

    @Test
    void roundsHalfToEvenAfterRepeatedAddition() {
        // S=25: stride 41.625, the 5th kept value is 166.5 -> 166 (Python round); Math.round would give 167
        long[] map = Respacing.timestepMap(1000, 25);
        assertEquals(166, map[4]);
        assertEquals(999, map[24]);
        assertArrayEquals(new long[] {0}, Respacing.timestepMap(1000, 1));
        assertEquals(1000, Respacing.timestepMap(1000, 1000).length);
    }

    @Test
    void singleStepScheduleHasNoClippedLogVariance() {
        DiffusionSchedule s = DiffusionSchedule.respaced(1);
        assertEquals(1, s.steps());
        assertEquals(0, s.timestep(0));
        assertTrue(Double.isNaN(s.posteriorLogVarianceClipped()[0]), "the official table is empty for S = 1");
    }

    @Test
    void refusesStepCountsOutsideOneToAThousand() {
        assertThrows(InvalidArgumentException.class, () -> Respacing.timestepMap(1000, 0));
        assertThrows(InvalidArgumentException.class, () -> DiffusionSchedule.respaced(1001));
    }
}
