package io.dyndit.core;

/** Thrown when a tensor's element type does not fit the operation. */
public class DTypeMismatchException extends DynditException {
    public DTypeMismatchException(String message) {
        super(message);
    }
}
