package io.dyndit.plan;

import java.util.Arrays;

/**
 * What the network computes at one sampling step: the patch size of the conditional and of the guidance
 * branch (0 = the checkpoint's own; FlexiDiT) and, block by block, width and token routing (DyDiT,
 * DiffCR). The forward pass obeys it without knowing which method produced it; methods differ only in
 * the plans they provide, and plans compose (a patch schedule over a width plan).
 *
 * <p>Thread-safety: treated as immutable (its array is not copied and nobody writes it after construction), safe to
 * share.
 */
public record StepPlan(LayerPlan[] layers, int condPatch, int guidancePatch) {
    public StepPlan(LayerPlan[] layers) {
        this(layers, 0, 0);
    }

    /** The complete (static) model. */
    public static StepPlan full(int depth) {
        LayerPlan[] l = new LayerPlan[depth];
        Arrays.fill(l, LayerPlan.FULL);
        return new StepPlan(l);
    }

    /** This plan with the given branch patch sizes. */
    public StepPlan withPatches(int cond, int guidance) {
        return new StepPlan(layers, cond, guidance);
    }

    public LayerPlan layer(int i) {
        return layers[i];
    }

    public int depth() {
        return layers.length;
    }

    public boolean isFull() {
        if (condPatch != 0 || guidancePatch != 0) {
            return false;
        }
        for (LayerPlan l : layers) {
            if (!l.equals(LayerPlan.FULL)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepPlan p && Arrays.equals(layers, p.layers) && condPatch == p.condPatch
                && guidancePatch == p.guidancePatch;
    }

    @Override
    public int hashCode() {
        return 31 * (31 * Arrays.hashCode(layers) + condPatch) + guidancePatch;
    }
}
