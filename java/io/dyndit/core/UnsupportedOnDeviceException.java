package io.dyndit.core;

/** Thrown when the operation or dtype has no implementation on that device yet. */
public class UnsupportedOnDeviceException extends DynditException {
    public UnsupportedOnDeviceException(String message) {
        super(message);
    }
}
