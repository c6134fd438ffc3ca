package io.dyndit.sampling;

/**
 * Sees every step's tensors ({@link StepTrace}), e.g. to write a trace or compare with a reference run.
 *
 * <p>Thread-safety: called on the generating thread; one inspector given to generations running at once must be
 * thread-safe itself.
 */
@FunctionalInterface
public interface StepInspector {
    StepInspector NONE = trace -> {};

    void onStep(StepTrace trace);
}
