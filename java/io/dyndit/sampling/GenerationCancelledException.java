package io.dyndit.sampling;

import io.dyndit.core.DynditException;

/**
 * The generation was cancelled (through its {@link Cancellation} or a thread interrupt) before it finished.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class GenerationCancelledException extends DynditException {
    private final int completedSteps;

    public GenerationCancelledException(String message, int completedSteps) {
        super(message);
        this.completedSteps = completedSteps;
    }

    /** How many loop steps had finished when the cancellation was noticed. */
    public int completedSteps() {
        return completedSteps;
    }
}
