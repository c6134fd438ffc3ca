package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * DyDiT v2 against the official code: masks and token decisions exactly equal, outputs and intermediates
 * within 1e-4 max(1,|ref|). The engine computes only kept heads, groups and tokens, so the MLP output is
 * compared on the tokens that ran it (the official code computes all and multiplies by the mask).
 */
class DyDiTGoldenTest {
    private static final String CASE = "dydit_v2_p2_d64_h4";

    @ParameterizedTest(name = "{0} on {1}")
    @CsvSource({"weights.safetensors, cpu", "weights.pt, cpu", "weights.safetensors, cuda-emu"})
    void dynamicForwardMatchesOfficial(String weightsFile, String device) throws Exception {
        Path dir = Golden.dir(CASE);
        try (DiTModel model = Golden.load(dir.resolve(weightsFile), CASE, device, false);
                TensorFile io = Golden.io(CASE)) {
            assertTrue(model.isDynamic());
            assertEquals(DyDiTRouters.Variant.V2, model.planner().variant());
            float[] x = Golden.floats(io, "x"), t = Golden.longsAsFloats(io, "t");
            long[] y = io.get("y").toLongArray();
            Map<String, float[]> seen = new HashMap<>();
            DiTModel.Result r = model.forwardDetailed(x, t, y, (name, v) -> seen.put(name + "@" + seen.size(), v.toFloatArray()));
            Golden.assertMatches(Golden.floats(io, "out"), r.out(), "out");
            assertArrayEquals(Golden.floats(io, "attn_masks"), r.trace().attnMasks, "attn_masks");
            assertArrayEquals(Golden.floats(io, "mlp_masks"), r.trace().mlpMasks, "mlp_masks");
            assertArrayEquals(Golden.floats(io, "token_select"), r.trace().tokenSelect, "token_select");

            // router logits per sample (the planner computes them from each sample's timestep)
            for (int s = 0; s < t.length; s++) {
                DyDiTPlanner.Logits l = model.planner().logits((long) t[s]);
                for (int i = 0; i < model.config().depth(); i++) {
                    float[] a = Golden.floats(io, "block." + i + ".attn_router_logits");
                    float[] m = Golden.floats(io, "block." + i + ".mlp_router_logits");
                    int rows = l.attn()[i].length;
                    Golden.assertMatches(java.util.Arrays.copyOfRange(a, s * rows, (s + 1) * rows), l.attn()[i], "attn logits");
                    Golden.assertMatches(java.util.Arrays.copyOfRange(m, s * rows, (s + 1) * rows), l.mlp()[i], "mlp logits");
                }
            }
            // intermediates, sample by sample (the two samples have different timesteps: separate sub-batches)
            int d = model.config().hiddenSize(), tok = model.config().tokens(), depth = model.config().depth();
            float[] select = Golden.floats(io, "token_select");
            for (int s = 0; s < t.length; s++) {
                Map<String, float[]> one = new HashMap<>();
                model.forwardDetailed(slice(x, s, t.length), new float[] {t[s]}, new long[] {y[s]},
                        (name, v) -> one.put(name, v.toFloatArray()));
                for (int i = 0; i < depth; i++) {
                    String b = "block." + i + ".";
                    Golden.assertMatches(slice(Golden.floats(io, b + "attn_out"), s, t.length), one.get(b + "attn_out"),
                            b + "attn_out");
                    Golden.assertMatches(slice(Golden.floats(io, b + "out"), s, t.length), one.get(b + "out"), b + "out");
                    Golden.assertMatches(slice(Golden.floats(io, b + "token_logits"), s, t.length),
                            one.get(b + "token_logits"), b + "token_logits");
                    float[] ref = slice(Golden.floats(io, b + "mlp_out"), s, t.length);
                    float[] kept = one.get(b + "mlp_out_kept");
                    int k = 0;
                    for (int j = 0; j < tok; j++) {
                        if (select[(s * depth + i) * tok + j] == 1f) {
                            Golden.assertMatches(java.util.Arrays.copyOfRange(ref, j * d, (j + 1) * d),
                                    java.util.Arrays.copyOfRange(kept, k * d, (k + 1) * d), b + "mlp_out token " + j);
                            k++;
                        }
                    }
                    assertEquals(k, kept == null ? 0 : kept.length / d, "kept tokens in " + b);
                }
            }
            float[] g = model.forwardWithCfg(Golden.floats(io, "cfg.x"), Golden.longsAsFloats(io, "cfg.t"),
                    io.get("cfg.y").toLongArray(), ((Number) Golden.caseJson(CASE).get("cfg_scale")).doubleValue());
            Golden.assertMatches(Golden.floats(io, "cfg.out"), g, "cfg.out");
        }
        try (DiTModel complete = Golden.load(dir.resolve(weightsFile), CASE, device, true);
                TensorFile io = Golden.io(CASE)) {
            assertTrue(!complete.isDynamic());
            Golden.assertMatches(Golden.floats(io, "out_complete_model"),
                    complete.forward(Golden.floats(io, "x"), Golden.longsAsFloats(io, "t"), io.get("y").toLongArray()),
                    "out_complete_model");
        }
    }

    /** Sample s of a batch of n stored back to back. */
    static float[] slice(float[] all, int s, int n) {
        int per = all.length / n;
        return java.util.Arrays.copyOfRange(all, s * per, (s + 1) * per);
    }
}
