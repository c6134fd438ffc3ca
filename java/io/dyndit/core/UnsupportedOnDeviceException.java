package io.dyndit.core;

/**
 * Thrown when the operation or dtype has no implementation on that device yet.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class UnsupportedOnDeviceException extends DynditException {
    public UnsupportedOnDeviceException(String message) {
        super(message);
    }
}
