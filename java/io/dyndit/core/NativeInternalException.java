package io.dyndit.core;

/**
 * Thrown when the native library hit an internal error (a bug: please report the message).
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class NativeInternalException extends DynditException {
    public NativeInternalException(String message) {
        super(message);
    }
}
