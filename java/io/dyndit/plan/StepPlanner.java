package io.dyndit.plan;

/**
 * Provides the plan of each sampling step from its loop index (0 = first, from noise) and the model
 * timestep it runs at (all samples of a batch share it).
 *
 * <p>Thread-safety: implementations say; the models' planners are safe to share.
 */
@FunctionalInterface
public interface StepPlanner {
    StepPlan plan(int step, long modelTimestep);
}
