package io.dyndit.plan;

import java.util.Arrays;

/**
 * What one transformer block computes in one step: the attention heads and MLP channel groups that run
 * (null = all; sorted ascending, possibly empty) and how tokens are routed: not at all, DyDiT's per-token
 * MLP skipping (a threshold on a token router), or DiffCR's top-k (only the k best-scoring tokens of each
 * sample run the whole block).
 *
 * <p>Thread-safety: treated as immutable (its arrays are not copied and nobody writes them after construction), safe to
 * share.
 */
public record LayerPlan(int[] heads, int[] groups, TokenRouting routing, int topK) {
    /** How a block decides which tokens it processes. */
    public enum TokenRouting { NONE, MLP_THRESHOLD, TOP_K }

    public static final LayerPlan FULL = new LayerPlan(null, null, TokenRouting.NONE, 0);

    /** Width plan with or without DyDiT token skipping. */
    public LayerPlan(int[] heads, int[] groups, boolean routeTokens) {
        this(heads, groups, routeTokens ? TokenRouting.MLP_THRESHOLD : TokenRouting.NONE, 0);
    }

    /** A DiffCR block: the k best tokens of each sample run it. */
    public static LayerPlan topK(int k) {
        return new LayerPlan(null, null, TokenRouting.TOP_K, k);
    }

    public boolean routeTokens() {
        return routing == TokenRouting.MLP_THRESHOLD;
    }

    public boolean allHeads() {
        return heads == null;
    }

    public boolean allGroups() {
        return groups == null;
    }

    /** Active head count given {@code total} heads. */
    public int headCount(int total) {
        return heads == null ? total : heads.length;
    }

    public int groupCount(int total) {
        return groups == null ? total : groups.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LayerPlan p && Arrays.equals(heads, p.heads) && Arrays.equals(groups, p.groups)
                && routing == p.routing && topK == p.topK;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * (31 * Arrays.hashCode(heads) + Arrays.hashCode(groups)) + routing.hashCode()) + topK;
    }

    @Override
    public String toString() {
        return "LayerPlan[heads=" + (heads == null ? "all" : Arrays.toString(heads)) + ", groups="
                + (groups == null ? "all" : Arrays.toString(groups)) + ", routing=" + routing
                + (routing == TokenRouting.TOP_K ? " k=" + topK : "") + "]";
    }
}
