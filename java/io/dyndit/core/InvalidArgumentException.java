package io.dyndit.core;

/** Thrown when a value, handle or index is not valid for the call. */
public class InvalidArgumentException extends DynditException {
    public InvalidArgumentException(String message) {
        super(message);
    }
}
