package io.dyndit.plan;

/** Provides the plan of each step from the model timestep it runs at (all samples of a batch share it). */
@FunctionalInterface
public interface StepPlanner {
    StepPlan plan(long modelTimestep);
}
