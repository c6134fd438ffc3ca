package io.dyndit.sampling;

/**
 * A cancel handle for one or more generations: {@link #cancel()} may be called from any thread; the loop checks it
 * between steps and then throws {@link GenerationCancelledException}. A step already running finishes first.
 *
 * <p>Thread-safety: thread-safe: cancel from any thread.
 */
public final class Cancellation {
    private volatile boolean cancelled;

    public void cancel() {
        cancelled = true;
    }

    public boolean isCancelled() {
        return cancelled;
    }
}
