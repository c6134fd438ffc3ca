package io.dyndit.io;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A plain-data Python object (such as the argparse.Namespace that DiT's train.py stores as "args") rebuilt
 * as a class name plus its attribute map. No Python code is involved: the allow-listed class is only a
 * label, and BUILD just records the state it is given.
 *
 * <p>Thread-safety: not thread-safe while the unpickler builds it; safe to read from many threads afterwards.
 */
public final class InertObject {
    /** The allow-listed class itself, as a pickle global. */
    record Kind(String qualifiedName) {}

    private final String className;
    private final Map<Object, Object> state = new LinkedHashMap<>();

    InertObject(String className) {
        this.className = className;
    }

    public String className() {
        return className;
    }

    /** The attributes set by BUILD (empty if none). */
    public Map<Object, Object> state() {
        return state;
    }

    @Override
    public String toString() {
        return className + state;
    }
}
