package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The counter-based generator: Random123 known answers, reproducibility, and the N(0, 1) moments. */
class PhiloxGaussianTest {
    @Test
    void philoxMatchesRandom123KnownAnswers() {
        // Random123 kat_vectors, philox4x32 10: counter (4 words), key (2 words) -> output (4 words)
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
                PhiloxGaussian.block(new int[] {0, 0, 0, 0}, 0, 0));
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
                PhiloxGaussian.block(new int[] {-1, -1, -1, -1}, -1, -1));
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
                PhiloxGaussian.block(new int[] {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, 0xa4093822, 0x299f31d0));
    }

    @Test
    void anyRangeOfTheStreamIsTheSameValues() {
        float[] whole = new float[101];
        PhiloxGaussian.fill(whole, 0, whole.length, 42, 3, 7, 1, 0);
        float[] part = new float[40];
        PhiloxGaussian.fill(part, 0, 40, 42, 3, 7, 1, 33); // odd start: begins with a sine half of a pair
        assertArrayEquals(Arrays.copyOfRange(whole, 33, 73), part);
    }

    @Test
    void seededNoiseIsIdenticalAcrossRunsAndThreadCounts() {
        int n = 20, batch = 40, per = 4 * 32 * 32;
        int bigBatch = 40; // 163840 values per step: above the threshold, so split over the threads
        float[] a = new SeededNoise(9, 1).stepNoise(5, 20, bigBatch, per);
        float[] b = new SeededNoise(9, 7).stepNoise(5, 20, bigBatch, per);
        float[] c = new SeededNoise(9, 16).stepNoise(5, 20, bigBatch, per);
        assertArrayEquals(a, b);
        assertArrayEquals(a, c);
        assertArrayEquals(new SeededNoise(9, 1).initialLatents(n, batch, per), new SeededNoise(9, 4).initialLatents(n,
                batch, per));
        assertFalse(Arrays.equals(a, new SeededNoise(10, 1).stepNoise(5, 20, bigBatch, per)), "the seed matters");
        assertFalse(Arrays.equals(a, new SeededNoise(9, 1).stepNoise(6, 20, bigBatch, per)), "the step matters");
    }

    @Test
    void layoutFollowsTheGuidanceBatch() {
        int per = 16;
        SeededNoise s = new SeededNoise(5, 1);
        float[] z = s.initialLatents(2, 4, per);
        assertArrayEquals(Arrays.copyOfRange(z, 0, 2 * per), Arrays.copyOfRange(z, 2 * per, 4 * per), "[z; z]");
        float[] step = s.stepNoise(3, 2, 4, per);
        assertFalse(Arrays.equals(Arrays.copyOfRange(step, 0, 2 * per), Arrays.copyOfRange(step, 2 * per, 4 * per)),
                "the two halves draw independent step noise");
        // sample j's noise does not depend on the batch size
        float[] single = s.stepNoise(3, 1, 1, per);
        assertArrayEquals(single, Arrays.copyOfRange(step, 0, per));
        assertArrayEquals(s.initialLatents(1, 1, per), Arrays.copyOfRange(z, 0, per));
    }

    /** A batch starting at global index a is rows a.. of one batch from 0, in every stream, with and without guidance. */
    @Test
    void firstIndexShiftsTheBatchAlongTheGlobalSamples() {
        int per = 48, n = 7, a = 5;
        long seed = io.dyndit.testing.Seeds.fresh();
        SeededNoise whole = new SeededNoise(seed, 1), shifted = new SeededNoise(seed, 3, a);
        float[] z = whole.initialLatents(a + n, 2 * (a + n), per), zs = shifted.initialLatents(n, 2 * n, per);
        assertArrayEquals(Arrays.copyOfRange(z, a * per, (a + n) * per), Arrays.copyOfRange(zs, 0, n * per));
        float[] step = whole.stepNoise(4, a + n, 2 * (a + n), per), steps = shifted.stepNoise(4, n, 2 * n, per);
        assertArrayEquals(Arrays.copyOfRange(step, a * per, (a + n) * per), Arrays.copyOfRange(steps, 0, n * per),
                "conditional rows");
        assertArrayEquals(Arrays.copyOfRange(step, (2 * a + n) * per, 2 * (a + n) * per),
                Arrays.copyOfRange(steps, n * per, 2 * n * per), "unconditional rows");
        assertArrayEquals(whole.stepNoise(2, a + n, a + n, per), concat(whole.stepNoise(2, a, a, per),
                new SeededNoise(seed, 1, a).stepNoise(2, n, n, per)), "no guidance: two batches make the whole");
        assertEquals(a, shifted.firstIndex());
        org.junit.jupiter.api.Assertions.assertThrows(io.dyndit.core.InvalidArgumentException.class,
                () -> new SeededNoise(seed, 1, -1));
        org.junit.jupiter.api.Assertions.assertThrows(io.dyndit.core.InvalidArgumentException.class,
                () -> new SeededNoise(seed, 1, SeededNoise.MAX_INDEX).check(2, 2, 4, 8, 1));
    }

    private static float[] concat(float[] a, float[] b) {
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * 2^21 draws. For N(0,1) the sample mean has standard deviation 1/√N = 6.9e-4, the sample variance √(2/N) =
     * 9.8e-4, the fourth moment √((105−9)/N) = 6.8e-3, and P(|z| < 1) = 0.682689 has √(p(1−p)/N) = 3.2e-4. Each bound
     * below is 5 standard deviations, which a correct generator exceeds with probability below 1e-6 (and the draws
     * are fixed by the seed, so the test is deterministic).
     */
    @Test
    void momentsAreThoseOfAStandardNormal() {
        int n = 1 << 21;
        float[] v = new SeededNoise(2024, 4).stepNoise(0, 64, 64, n / 64);
        double sum = 0, sum2 = 0, sum4 = 0;
        long inside = 0;
        for (float f : v) {
            sum += f;
            sum2 += (double) f * f;
            sum4 += (double) f * f * f * f;
            inside += Math.abs(f) < 1 ? 1 : 0;
            assertTrue(Float.isFinite(f));
        }
        double mean = sum / n, var = sum2 / n - mean * mean;
        assertEquals(0, mean, 5 / Math.sqrt(n), "mean");
        assertEquals(1, var, 5 * Math.sqrt(2.0 / n), "variance");
        assertEquals(3, sum4 / n, 5 * Math.sqrt(96.0 / n), "fourth moment");
        assertEquals(0.682689, (double) inside / n, 5 * Math.sqrt(0.682689 * 0.317311 / n), "P(|z| < 1)");
    }
}
