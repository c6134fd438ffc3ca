package io.dyndit.core;

/** Thrown when a tensor was used after it was closed. */
public class TensorClosedException extends DynditException {
    public TensorClosedException(String message) {
        super(message);
    }
}
