package io.dyndit.core;

/**
 * Thrown when host or device memory ran out.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class NativeOutOfMemoryException extends DynditException {
    public NativeOutOfMemoryException(String message) {
        super(message);
    }
}
