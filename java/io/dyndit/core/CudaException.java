package io.dyndit.core;

/**
 * Thrown when a CUDA call or kernel failed; the message names the kernel and CUDA's error.
 *
 * <p>Thread-safety: immutable once thrown, safe to pass between threads.
 */
public class CudaException extends DynditException {
    public CudaException(String message) {
        super(message);
    }
}
