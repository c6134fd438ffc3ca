package io.dyndit.core;

/**
 * Thrown when tensors of one operation live on different devices.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class DeviceMismatchException extends DynditException {
    public DeviceMismatchException(String message) {
        super(message);
    }
}
