package io.dyndit.core;

/**
 * Thrown when a tensor's shape does not fit the operation; the message names the tensor, expected and actual shape.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class ShapeMismatchException extends DynditException {
    public ShapeMismatchException(String message) {
        super(message);
    }
}
