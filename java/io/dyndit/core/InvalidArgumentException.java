package io.dyndit.core;

/**
 * Thrown when a value, handle or index is not valid for the call.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class InvalidArgumentException extends DynditException {
    public InvalidArgumentException(String message) {
        super(message);
    }
}
