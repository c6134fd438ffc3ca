package io.dyndit.core;

/** Thrown when tensors of one operation live on different devices. */
public class DeviceMismatchException extends DynditException {
    public DeviceMismatchException(String message) {
        super(message);
    }
}
