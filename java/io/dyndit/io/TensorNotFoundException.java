package io.dyndit.io;

/**
 * A tensor was requested by a name the file does not hold.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class TensorNotFoundException extends CheckpointException {
    private final String tensorName;

    public TensorNotFoundException(String tensorName, String source) {
        super("no tensor named '" + tensorName + "' in " + source);
        this.tensorName = tensorName;
    }

    public String tensorName() {
        return tensorName;
    }
}
