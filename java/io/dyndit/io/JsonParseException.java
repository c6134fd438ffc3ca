package io.dyndit.io;

import io.dyndit.core.DynditException;

/**
 * Malformed JSON text; the message and {@link #offset()} give the character offset of the problem.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class JsonParseException extends DynditException {
    private final int offset;

    public JsonParseException(String problem, int offset) {
        super("invalid JSON at character " + offset + ": " + problem);
        this.offset = offset;
    }

    public int offset() {
        return offset;
    }
}
