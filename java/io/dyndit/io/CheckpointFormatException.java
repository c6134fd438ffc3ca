package io.dyndit.io;

/**
 * The file's bytes do not form a valid checkpoint (bad header, out-of-range offsets, corrupt zip, bad pickle...).
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class CheckpointFormatException extends CheckpointException {
    public CheckpointFormatException(String message) {
        super(message);
    }

    public CheckpointFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
