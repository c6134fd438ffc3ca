package io.dyndit.plan;

import java.util.Arrays;

/**
 * What the network computes at one sampling step, block by block. The forward pass obeys it without
 * knowing which method produced it; methods differ only in the plans they provide.
 */
public record StepPlan(LayerPlan[] layers) {
    /** The complete (static) model. */
    public static StepPlan full(int depth) {
        LayerPlan[] l = new LayerPlan[depth];
        Arrays.fill(l, LayerPlan.FULL);
        return new StepPlan(l);
    }

    public LayerPlan layer(int i) {
        return layers[i];
    }

    public int depth() {
        return layers.length;
    }

    public boolean isFull() {
        for (LayerPlan l : layers) {
            if (!l.equals(LayerPlan.FULL)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StepPlan p && Arrays.equals(layers, p.layers);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(layers);
    }
}
