package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DiffCR against the float64 reference of the engine's definitions (golden-fd). */
class DiffCRGoldenTest {
    private static final String CASE = "diffcr_d1_T16_R2";

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void forwardMatchesReferenceWithIdenticalTokenChoices(String device) throws Exception {
        Path dir = Golden.dir(CASE);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), CASE, device, false);
                TensorFile io = Golden.io(CASE)) {
            assertTrue(m.isDynamic());
            float[] x = Golden.floats(io, "x"), t = Golden.longsAsFloats(io, "t");
            long[] y = io.get("y").toLongArray();
            DiTModel.Result r = m.forwardDetailed(x, t, y, ForwardObserver.NONE);
            Golden.assertMatches(Golden.floats(io, "out"), r.out(), "out");
            long[] k = io.get("k").toLongArray();
            long[] idx = io.get("topk_idx").toLongArray(); // [N, L, T], -1 padded
            float[] scores = Golden.floats(io, "scores");  // [N, L, T]
            int n = y.length, layers = m.config().depth(), tok = m.config().tokens();
            for (int l = 0; l < layers; l++) {
                int kl = (int) k[l];
                assertEquals(kl * n, r.trace().topK[l].length, "k of block " + l);
                for (int s = 0; s < n; s++) {
                    for (int j = 0; j < tok; j++) {
                        long want = idx[(s * layers + l) * tok + j];
                        if (j < kl) {
                            assertEquals(want, r.trace().topK[l][s * kl + j], "block " + l + " sample " + s + " slot " + j);
                        } else {
                            assertEquals(-1, want);
                        }
                        float ref = scores[(s * layers + l) * tok + j], got = r.trace().scores[l][s * tok + j];
                        assertTrue(Math.abs(ref - got) <= 1e-5, "score block " + l + " sample " + s + " token " + j);
                    }
                }
            }
        }
        try (DiTModel plain = Golden.load(dir.resolve("weights.safetensors"), CASE, device, true);
                TensorFile io = Golden.io(CASE)) {
            Golden.assertMatches(Golden.floats(io, "out_dit"), plain.forward(Golden.floats(io, "x"),
                    Golden.longsAsFloats(io, "t"), io.get("y").toLongArray()), "out_dit (--static)");
        }
    }

    @Test
    void badRatiosAndRoutersAreNamed() {
        DiTConfig c = DyDiTEngineTest.CFG;
        RandomDiT f = withDiffCR(c, new float[] {0.5f, 1.5f, 0.3f, 0.3f});
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> DiTModel.load(f, c, Device.cpu()));
        assertTrue(e.getMessage().contains("diffcr.ratios") && e.getMessage().contains("1.5"), e.getMessage());
        RandomDiT g = withDiffCR(c, new float[] {0.5f, 0.5f, 0.5f, 0f});
        assertThrows(InvalidArgumentException.class, () -> DiTModel.load(g, c, Device.cpu()));
        RandomDiT h = withDiffCR(c, new float[] {0.5f, 0.5f}).put("diffcr.ratios", new float[] {0.5f, 0.5f, 0.5f}, 3, 1);
        ShapeMismatchException s = assertThrows(ShapeMismatchException.class, () -> DiTModel.load(h, c, Device.cpu()));
        assertTrue(s.getMessage().contains("diffcr.ratios") && s.getMessage().contains("[3, 1]"), s.getMessage());
        RandomDiT w = withDiffCR(c, new float[] {0.5f, 0.5f}).put("blocks.1.diffcr_router.weight", new float[47], 1, 47);
        s = assertThrows(ShapeMismatchException.class, () -> DiTModel.load(w, c, Device.cpu()));
        assertTrue(s.getMessage().contains("blocks.1.diffcr_router.weight"), s.getMessage());
    }

    static RandomDiT withDiffCR(DiTConfig c, float[] ratios) {
        RandomDiT f = new RandomDiT(c, 5);
        for (int i = 0; i < c.depth(); i++) {
            float[] r = new float[c.hiddenSize()];
            for (int j = 0; j < r.length; j++) r[j] = (float) Math.sin(7 * i + j);
            f.put("blocks." + i + ".diffcr_router.weight", r, 1, c.hiddenSize());
        }
        return f.put("diffcr.ratios", ratios, c.depth(), ratios.length / c.depth());
    }
}
