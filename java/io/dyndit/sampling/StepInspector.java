package io.dyndit.sampling;

/** Sees every step's tensors ({@link StepTrace}), e.g. to write a trace or compare with a reference run. */
@FunctionalInterface
public interface StepInspector {
    StepInspector NONE = trace -> {};

    void onStep(StepTrace trace);
}
