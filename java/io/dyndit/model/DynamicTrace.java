package io.dyndit.model;

import io.dyndit.core.Tensor;
import io.dyndit.plan.LayerPlan;

/**
 * What a dynamic forward decided, in the official DyDiT output layout: attn_masks and mlp_masks [N,L,H]
 * (0/1, v2 including the always-on unit 0) and token_select [N,L,T] (1 = the token ran the MLP).
 * All samples of one call share a timestep, so width masks are the same for every sample.
 *
 * <p>Thread-safety: not thread-safe: the forward that creates it fills it; read it after that call returns.
 */
public final class DynamicTrace {
    final int n, layers, heads, tokens;
    public final float[] attnMasks, mlpMasks, tokenSelect;
    /**
     * DiffCR: per block, the router scores [N,T] and the kept token indices [N,k] (within each sample). A batch whose
     * samples sit in different timestep regions has a k per sample: topK is then null (tokenSelect holds the choice).
     */
    public final float[][] scores;
    public final int[][] topK;

    DynamicTrace(int n, int layers, int heads, int tokens) {
        this.n = n;
        this.layers = layers;
        this.heads = heads;
        this.tokens = tokens;
        attnMasks = new float[n * layers * heads];
        mlpMasks = new float[n * layers * heads];
        tokenSelect = new float[n * layers * tokens];
        java.util.Arrays.fill(tokenSelect, 1f);
        scores = new float[layers][];
        topK = new int[layers][];
    }

    void recordTopK(int layer, Tensor scores2d, Tensor flatIndex, int k) {
        scores[layer] = scores2d.toFloatArray();
        int[] idx = flatIndex.toIntArray();
        for (int j = 0; j < idx.length; j++) {
            idx[j] %= tokens;
        }
        topK[layer] = idx;
        for (int s = 0; s < n; s++) {
            int base = (s * layers + layer) * tokens;
            java.util.Arrays.fill(tokenSelect, base, base + tokens, 0f);
            for (int j = 0; j < k; j++) {
                tokenSelect[base + idx[s * k + j]] = 1f;
            }
        }
    }

    void recordWidth(int layer, LayerPlan lp) {
        for (int s = 0; s < n; s++) {
            int base = (s * layers + layer) * heads;
            fill(attnMasks, base, lp.heads());
            fill(mlpMasks, base, lp.groups());
        }
    }

    private void fill(float[] mask, int base, int[] active) {
        if (active == null) {
            java.util.Arrays.fill(mask, base, base + heads, 1f);
            return;
        }
        java.util.Arrays.fill(mask, base, base + heads, 0f);
        for (int h : active) {
            mask[base + h] = 1f;
        }
    }

    void recordTokens(int layer, Tensor index, int kept) {
        for (int s = 0; s < n; s++) {
            java.util.Arrays.fill(tokenSelect, (s * layers + layer) * tokens, (s * layers + layer + 1) * tokens, 0f);
        }
        if (kept == 0) {
            return;
        }
        int[] idx = index.toIntArray();
        for (int k = 0; k < kept; k++) {
            int s = idx[k] / tokens, tok = idx[k] % tokens;
            tokenSelect[(s * layers + layer) * tokens + tok] = 1f;
        }
    }

    /** Copies sample rows of {@code part} (a sub-batch holding samples {@code which}) into this trace. */
    void absorb(DynamicTrace part, int[] which) {
        for (int j = 0; j < which.length; j++) {
            int s = which[j];
            System.arraycopy(part.attnMasks, j * layers * heads, attnMasks, s * layers * heads, layers * heads);
            System.arraycopy(part.mlpMasks, j * layers * heads, mlpMasks, s * layers * heads, layers * heads);
            System.arraycopy(part.tokenSelect, j * layers * tokens, tokenSelect, s * layers * tokens, layers * tokens);
            for (int l = 0; l < layers; l++) {
                if (part.scores[l] != null) {
                    if (scores[l] == null) {
                        scores[l] = new float[n * tokens];
                    }
                    System.arraycopy(part.scores[l], j * tokens, scores[l], s * tokens, tokens);
                }
            }
        }
    }
}
