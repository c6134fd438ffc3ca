package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ShapeMismatchException;
import org.junit.jupiter.api.Test;

class FlexiDiTBadInputTest {
    // I = 8, p = 2: allowed q are 4 and 8
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    private static void mentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), e.getMessage());
    }

    @Test
    void patchSizesThatDoNotFitAreNamed() {
        float[] x = new float[4 * 8 * 8];
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 1), CFG, Device.cpu())) {
            mentions(assertThrows(InvalidArgumentException.class, () -> m.forwardAtPatch(x, new float[] {5}, new long[] {1}, 3)),
                    "patch size 3", "multiple");
            mentions(assertThrows(InvalidArgumentException.class, () -> m.forwardAtPatch(x, new float[] {5}, new long[] {1}, 6)),
                    "patch size 6", "divides the input size 8");
            assertThrows(InvalidArgumentException.class,
                    () -> m.forwardFlexiGuided(x, new float[] {5}, new long[] {1}, 4, 2, 4.0, Double.NaN));
            m.forwardAtPatch(x, new float[] {5}, new long[] {1}, 8); // one token: allowed
        }
        mentions(assertThrows(InvalidArgumentException.class, () -> new FlexiSchedule(4, 5, 3, Double.NaN)), "K_c");
        assertThrows(InvalidArgumentException.class, () -> FlexiSchedule.forBudget(CFG, 4, 10, 1.5, Double.NaN));
    }

    @Test
    void explicitFlexiTensorsOfTheWrongShapeAreNamed() {
        RandomDiT f = new RandomDiT(CFG, 1).put("flexi.q4.x_embedder.proj.weight", new float[48 * 4 * 4 * 3], 48, 4, 4, 3)
                .put("flexi.q4.x_embedder.proj.bias", new float[48], 48);
        try (DiTModel m = DiTModel.load(f, CFG, Device.cpu())) {
            mentions(assertThrows(ShapeMismatchException.class,
                    () -> m.forwardAtPatch(new float[4 * 8 * 8], new float[] {5}, new long[] {1}, 4)),
                    "flexi.q4.x_embedder.proj.weight", "[48, 4, 4, 3]", "[48, 4, 4, 4]");
        }
    }

    @Test
    void explicitFlexiTensorsAreUsedInsteadOfDerivedOnes() {
        // an explicit zero embedder at q makes every token equal to its bias + position: differs from derived
        float[] x = new float[4 * 8 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.cos(i);
        RandomDiT explicit = new RandomDiT(CFG, 1).put("flexi.q4.x_embedder.proj.weight", new float[48 * 4 * 16], 48, 4, 4, 4)
                .put("flexi.q4.x_embedder.proj.bias", new float[48], 48);
        try (DiTModel a = DiTModel.load(explicit, CFG, Device.cpu());
                DiTModel b = DiTModel.load(new RandomDiT(CFG, 1), CFG, Device.cpu())) {
            float[] ya = a.forwardAtPatch(x, new float[] {5}, new long[] {1}, 4);
            float[] yb = b.forwardAtPatch(x, new float[] {5}, new long[] {1}, 4);
            float[] zero = a.forwardAtPatch(new float[x.length], new float[] {5}, new long[] {1}, 4);
            org.junit.jupiter.api.Assertions.assertArrayEquals(zero, ya, "a zero embedder ignores the input");
            assertTrue(!java.util.Arrays.equals(ya, yb), "derived weights differ from the explicit zero ones");
        }
    }
}
