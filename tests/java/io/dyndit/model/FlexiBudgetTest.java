package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * FlexiSchedule.forBudget: K steps at the weak patch q cost 1 − K(1 − r)/S of the static run (r = MACs at q over MACs
 * at p); the mapping picks the smallest K within the budget. macsAt at the native patch is the static count.
 */
class FlexiBudgetTest {
    @Test
    void picksTheFewestWeakStepsWithinTheBudget() {
        for (DiTConfig c : new DiTConfig[] {DiTConfig.preset("DiT-XL/2", 32), DiTConfig.preset("DiT-B/2", 32),
            DyDiTEngineTest.CFG}) {
            assertEquals(DiTMacs.total(c), FlexiSchedule.macsAt(c, c.patchSize()), 1e-9 * DiTMacs.total(c));
            int q = 2 * c.patchSize();
            double r = FlexiSchedule.macsAt(c, q) / DiTMacs.total(c);
            assertTrue(r > 0 && r < 0.5, "patch " + q + " costs " + r + " of the native forward");
            for (int steps : new int[] {10, 25, 50}) {
                for (double f = 1.0; f > r; f -= 0.05) {
                    int k = FlexiSchedule.forBudget(c, q, steps, f, Double.NaN).kCond();
                    double share = 1 - k * (1 - r) / steps;
                    assertTrue(share <= f + 1e-12, "K=" + k + " spends " + share + " > budget " + f);
                    assertTrue(k == 0 || 1 - (k - 1) * (1 - r) / steps > f, "K=" + (k - 1) + " already fits " + f);
                }
                assertEquals(steps, FlexiSchedule.forBudget(c, q, steps, r / 2, Double.NaN).kCond(),
                        "a budget below all-weak runs every step weak");
            }
        }
    }
}
