package io.dyndit.core;

/**
 * Thrown when a tensor's element type does not fit the operation.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class DTypeMismatchException extends DynditException {
    public DTypeMismatchException(String message) {
        super(message);
    }
}
