package io.dyndit.core;

/** Thrown when a tensor's shape does not fit the operation; the message names the tensor, expected and actual shape. */
public class ShapeMismatchException extends DynditException {
    public ShapeMismatchException(String message) {
        super(message);
    }
}
