package io.dyndit.model;

import io.dyndit.plan.LayerPlan;
import io.dyndit.plan.StepPlan;
import io.dyndit.plan.StepPlanner;

/** DiffCR's plan for a timestep: each block keeps its ratio's k tokens of every sample. */
final class DiffCRPlanner implements StepPlanner {
    private final DiffCRRouters routers;
    private final int tokens;

    DiffCRPlanner(DiffCRRouters routers, int tokens) {
        this.routers = routers;
        this.tokens = tokens;
    }

    @Override
    public StepPlan plan(int step, long modelTimestep) {
        return plan(modelTimestep, tokens);
    }

    /** The plan for evaluations with {@code tokenCount} tokens per sample (a FlexiDiT patch size). */
    StepPlan plan(long modelTimestep, int tokenCount) {
        LayerPlan[] l = new LayerPlan[routers.ratios.length];
        for (int i = 0; i < l.length; i++) {
            l[i] = LayerPlan.topK(routers.keep(i, modelTimestep, tokenCount));
        }
        return new StepPlan(l);
    }
}
