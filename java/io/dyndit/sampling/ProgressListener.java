package io.dyndit.sampling;

/**
 * Told after every loop step; runs on the generating thread, so it should return quickly.
 *
 * <p>Thread-safety: called on the generating thread; one listener given to generations running at once must be
 * thread-safe itself.
 */
@FunctionalInterface
public interface ProgressListener {
    ProgressListener NONE = (stats, totalSteps, elapsedSeconds) -> {};

    /** {@code stats} of the step just finished, of {@code totalSteps}; {@code elapsedSeconds} since the start. */
    void onStep(StepStats stats, int totalSteps, double elapsedSeconds);
}
