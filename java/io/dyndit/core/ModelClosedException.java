package io.dyndit.core;


/**
 * A model or decoder was used after close().
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class ModelClosedException extends DynditException {
    public ModelClosedException(String message) {
        super(message);
    }
}
