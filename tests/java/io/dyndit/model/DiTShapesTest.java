package io.dyndit.model;

import io.dyndit.core.Device;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The forward on shapes the golden cases do not cover (patch 1 and 8, odd head counts, other MLP ratios and
 * channel counts, no learned sigma, no null class) against the independent float64 dense reference.
 */
class DiTShapesTest {
    @ParameterizedTest(name = "I={0} p={1} C={2} D={3} H={4} mlp={5} dropout={6} sigma={7} N={8}")
    @CsvSource({
        "4, 1, 4, 56, 7, 4.0, 0.1, true, 3",    // patch 1: 16 tokens; 7 heads of 8
        "16, 8, 3, 40, 5, 2.5, 0.0, false, 2",  // patch 8: 4 tokens; no null class, no learned sigma
        "8, 4, 1, 24, 3, 1.0, 0.1, true, 1",    // one channel, mlp_ratio 1
    })
    void forwardMatchesDenseReference(int input, int patch, int channels, int hidden, int heads, double mlp,
            double dropout, boolean sigma, int n) {
        DiTConfig c = new DiTConfig(input, patch, channels, hidden, 2, heads, mlp, dropout, 5, sigma);
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT w = new RandomDiT(c, seed);
        Random g = new Random(seed);
        float[] x = new float[n * channels * input * input];
        for (int i = 0; i < x.length; i++) x[i] = (float) g.nextGaussian();
        long[] y = new long[n];
        for (int i = 0; i < n; i++) y[i] = g.nextInt(c.labelTableRows());
        float[] t = new float[n];
        java.util.Arrays.fill(t, 613);
        double[] want = new DenseReference(c, w, false).forward(x, 613, y);
        float[] wf = new float[want.length];
        for (int i = 0; i < wf.length; i++) wf[i] = (float) want[i];
        try (DiTModel m = DiTModel.load(w, c, Device.cpu())) {
            Golden.assertMatches(wf, m.forward(x, t, y), "out (seed " + seed + ")");
        }
    }
}
