package io.dyndit.internal;

import io.dyndit.core.ModelClosedException;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;

/**
 * Open/closed state of a shared object (a model, a decoder): calls run while it is open, many at once; close() waits
 * for the running ones and refuses later ones with {@link ModelClosedException}. Thread-safe; not public API.
 */
public final class Lifecycle {
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private final String what;
    private volatile boolean closed;

    /** {@code what} names the object in messages ("model", "VAE decoder"). */
    public Lifecycle(String what) {
        this.what = what;
    }

    /** Runs body while the object is open (it cannot close meanwhile). */
    public <T> T whileOpen(Supplier<T> body) {
        ReentrantReadWriteLock.ReadLock r = lock.readLock();
        r.lock();
        try {
            if (closed) {
                throw new ModelClosedException(what + " is closed");
            }
            return body.get();
        } finally {
            r.unlock();
        }
    }

    /**
     * Marks the object closed once the running calls have finished; true for the call that closed it (which then
     * frees it), false when it was closed already. A call from inside the object's own call cannot wait for itself:
     * IllegalStateException.
     */
    public boolean close() {
        if (lock.getReadHoldCount() > 0) {
            throw new IllegalStateException("close() called from inside this " + what + "'s own call");
        }
        ReentrantReadWriteLock.WriteLock w = lock.writeLock();
        w.lock();
        try {
            if (closed) {
                return false;
            }
            closed = true;
            return true;
        } finally {
            w.unlock();
        }
    }

    public boolean isClosed() {
        return closed;
    }
}
