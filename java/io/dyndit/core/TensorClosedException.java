package io.dyndit.core;

/**
 * Thrown when a tensor was used after it was closed.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class TensorClosedException extends DynditException {
    public TensorClosedException(String message) {
        super(message);
    }
}
