package io.dyndit.core;

/**
 * Thrown when a device was asked for that cannot be used; the message carries CUDA's reason.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class DeviceUnavailableException extends DynditException {
    public DeviceUnavailableException(String message) {
        super(message);
    }
}
