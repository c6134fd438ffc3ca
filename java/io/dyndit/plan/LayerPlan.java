package io.dyndit.plan;

import java.util.Arrays;

/**
 * What one transformer block computes in one step: the attention heads and MLP channel groups that run
 * (null = all; sorted ascending, possibly empty) and whether a token router decides which tokens run
 * the MLP (DyDiT's spatial dynamic tokens).
 */
public record LayerPlan(int[] heads, int[] groups, boolean routeTokens) {
    public static final LayerPlan FULL = new LayerPlan(null, null, false);

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
                && routeTokens == p.routeTokens;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(heads) + Arrays.hashCode(groups)) + (routeTokens ? 1 : 0);
    }

    @Override
    public String toString() {
        return "LayerPlan[heads=" + (heads == null ? "all" : Arrays.toString(heads)) + ", groups="
                + (groups == null ? "all" : Arrays.toString(groups)) + ", routeTokens=" + routeTokens + "]";
    }
}
