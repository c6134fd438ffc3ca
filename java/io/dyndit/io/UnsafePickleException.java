package io.dyndit.io;

/**
 * A PyTorch checkpoint's pickle asked for a Python global that is not on the allow-list. Loading never runs code,
 * so anything beyond the tensor-rebuilding constructs is refused instead of being imported or called.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class UnsafePickleException extends CheckpointException {
    private final String global;

    public UnsafePickleException(String global, String source) {
        super("refusing to load " + source + ": its pickle references the Python global '" + global
                + "', which is not on the allow-list of tensor-rebuilding constructs (loading never runs code)");
        this.global = global;
    }

    /** The refused global as module.name, e.g. "os.system". */
    public String global() {
        return global;
    }
}
