package io.dyndit.core;


/** A model or decoder was used after close(). */
public class ModelClosedException extends DynditException {
    public ModelClosedException(String message) {
        super(message);
    }
}
