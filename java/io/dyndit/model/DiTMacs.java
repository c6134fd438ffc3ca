package io.dyndit.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Multiply-accumulates of one static DiT forward for one sample, by part, in the papers' convention
 * (GEMM-like work only; norms, softmax and activations are not counted). DiT-XL/2 at 256x256: 118.6 G.
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class DiTMacs {
    private DiTMacs() {}

    /** Parts in forward order; values are MACs per sample. */
    public static Map<String, Double> breakdown(DiTConfig c) {
        double t = c.tokens(), d = c.hiddenSize(), m = c.mlpHidden(), l = c.depth();
        double pp = (double) c.patchSize() * c.patchSize();
        Map<String, Double> parts = new LinkedHashMap<>();
        parts.put("patch_embed", t * d * c.inChannels() * pp);
        parts.put("t_embedder", 256 * d + d * d);
        parts.put("adaLN", l * 6 * d * d + 2 * d * d);
        parts.put("attn_qkv_proj", l * 4 * t * d * d);
        parts.put("attn_scores", l * 2 * t * t * d);
        parts.put("mlp", l * 2 * t * d * m);
        parts.put("final_linear", t * d * pp * c.outChannels());
        return parts;
    }

    public static double total(DiTConfig c) {
        return breakdown(c).values().stream().mapToDouble(Double::doubleValue).sum();
    }
}
