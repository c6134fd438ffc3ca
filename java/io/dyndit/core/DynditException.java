package io.dyndit.core;

/**
 * Base of every error dyndit reports: bad input, native failures, unavailable devices.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class DynditException extends RuntimeException {
    public DynditException(String message) {
        super(message);
    }

    public DynditException(String message, Throwable cause) {
        super(message, cause);
    }
}
