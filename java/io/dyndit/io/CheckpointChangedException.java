package io.dyndit.io;

/**
 * The checkpoint file changed or shrank after it was opened, so bytes it promised when opened are gone (reading a
 * memory-mapped page past the new end of the file faults). Names the file and its sizes then and now.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class CheckpointChangedException extends CheckpointException {
    public CheckpointChangedException(String message, Throwable cause) {
        super(message, cause);
    }
}
