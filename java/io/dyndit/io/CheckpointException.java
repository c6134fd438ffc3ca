package io.dyndit.io;

import io.dyndit.core.DynditException;

/**
 * Base of every error this package reports: unreadable files, malformed content, refused pickles, missing tensors.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class CheckpointException extends DynditException {
    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
