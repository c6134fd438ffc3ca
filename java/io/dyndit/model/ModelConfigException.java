package io.dyndit.model;

import io.dyndit.core.DynditException;

/**
 * A model configuration that is malformed, cannot be inferred, or contradicts the weights.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class ModelConfigException extends DynditException {
    public ModelConfigException(String message) {
        super(message);
    }
}
