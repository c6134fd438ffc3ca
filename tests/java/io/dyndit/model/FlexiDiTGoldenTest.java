package io.dyndit.model;

import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** FlexiDiT against the float64 reference of the engine's definitions (golden-fd). */
class FlexiDiTGoldenTest {
    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void derivedWeightsAndForwardAtTheWeakPatchSize(String device) throws Exception {
        String c = "flexidit_f1_derived_q4";
        Path dir = Golden.dir(c);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), c, device, false);
                TensorFile io = Golden.io(c)) {
            double[][] b = FlexiWeights.bilinear(2, 4);
            float[] bf = new float[16 * 4];
            for (int r = 0; r < 16; r++) for (int j = 0; j < 4; j++) bf[r * 4 + j] = (float) b[r][j];
            Golden.assertMatches(Golden.floats(io, "bilinear_B"), bf, "bilinear_B");
            PatchGeometry g = m.geometry(4);
            Golden.assertMatches(Golden.floats(io, "w_embed_q"), g.patchW().toFloatArray(), "w_embed_q (PI-resize)");
            Golden.assertMatches(Golden.floats(io, "b_embed_q"), g.patchB().toFloatArray(), "b_embed_q");
            Golden.assertMatches(Golden.floats(io, "w_final_q"), g.finalW().toFloatArray(), "w_final_q");
            Golden.assertMatches(Golden.floats(io, "b_final_q"), g.finalB().toFloatArray(), "b_final_q");
            Golden.assertMatches(Golden.floats(io, "pos_embed_q"), g.pos().toFloatArray(), "pos_embed_q (+ zero patch embed)");
            float[] x = Golden.floats(io, "x"), t = Golden.longsAsFloats(io, "t");
            long[] y = io.get("y").toLongArray();
            Golden.assertMatches(Golden.floats(io, "out_q"), m.forwardAtPatch(x, t, y, 4), "out_q");
            Golden.assertMatches(Golden.floats(io, "out_p"), m.forwardAtPatch(x, t, y, 2), "out_p");
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void weakGuidanceInOnePackedEvaluation(String device) throws Exception {
        String c = "flexidit_f3_weak_guidance";
        Path dir = Golden.dir(c);
        try (DiTModel m = Golden.load(dir.resolve("weights.safetensors"), c, device, false);
                TensorFile io = Golden.io(c)) {
            float[] x = Golden.floats(io, "x"), t = Golden.longsAsFloats(io, "t");
            long[] labels = io.get("labels").toLongArray();
            DiTModel.Result r = m.forwardFlexiGuided(x, t, labels, 2, 4, 4.0, Double.NaN);
            Golden.assertMatches(Golden.floats(io, "eps_guided"), r.out(), "eps_guided");
            // the branches on their own, as plain forwards at each patch size
            Golden.assertMatches(Golden.floats(io, "out_cond_p"), m.forwardAtPatch(x, t, labels, 2), "out_cond_p");
            Golden.assertMatches(Golden.floats(io, "out_guid_q"), m.forwardAtPatch(x, t, labels, 4), "out_guid_q");
        }
    }
}
