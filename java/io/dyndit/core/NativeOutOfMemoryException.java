package io.dyndit.core;

/** Thrown when host or device memory ran out. */
public class NativeOutOfMemoryException extends DynditException {
    public NativeOutOfMemoryException(String message) {
        super(message);
    }
}
