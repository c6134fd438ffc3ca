package io.dyndit.internal;

import io.dyndit.core.DynditException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Semaphore;
import java.util.function.Supplier;

/**
 * A bounded pool of per-caller execution contexts (workspaces, CUDA graphs, plans) of one shared object: a
 * caller leases a context for one call, so callers on different threads never share mutable state, and at most
 * {@code capacity} contexts exist. A thread that already holds a lease gets the same context again (nested
 * calls, or a generation that reserved one for all its steps). Contexts are reused, never allocated per call
 * once the pool is warm.
 *
 * <p>Thread-safety: thread-safe. Not part of the public API.
 */
public final class ContextPool<C extends AutoCloseable> {
    private final Supplier<C> factory;
    private final Semaphore permits;
    private final Deque<C> idle = new ArrayDeque<>();
    private final ThreadLocal<Lease> held = new ThreadLocal<>();
    private int created;
    private boolean closed;

    /** One lease of a context by the current thread; close() returns it (the outermost close, when nested). */
    public final class Lease implements AutoCloseable {
        private final C context;
        private int depth = 1;

        private Lease(C context) {
            this.context = context;
        }

        public C context() {
            return context;
        }

        @Override
        public void close() {
            if (held.get() != this || --depth > 0) {
                return;
            }
            held.remove();
            giveBack(context);
        }
    }

    public ContextPool(int capacity, Supplier<C> factory) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
        }
        this.factory = factory;
        this.permits = new Semaphore(capacity, true);
    }

    /** A context for the current thread: the one it already holds, an idle one, or a new one (waits when full). */
    public Lease acquire() {
        Lease mine = held.get();
        if (mine != null) {
            mine.depth++;
            return mine;
        }
        try {
            permits.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DynditException("interrupted while waiting for a free execution context");
        }
        C c;
        synchronized (this) {
            if (closed) {
                permits.release();
                throw new IllegalStateException("the context pool is closed");
            }
            c = idle.poll();
            if (c == null) {
                created++;
            }
        }
        if (c == null) {
            try {
                c = factory.get();
            } catch (RuntimeException | Error e) {
                synchronized (this) {
                    created--;
                }
                permits.release();
                throw e;
            }
        }
        Lease l = new Lease(c);
        held.set(l);
        return l;
    }

    private void giveBack(C c) {
        boolean free;
        synchronized (this) {
            free = closed;
            if (!free) {
                idle.push(c);
            }
        }
        if (free) {
            closeQuietly(c);
        }
        permits.release();
    }

    /** Contexts created so far (idle or leased). */
    public synchronized int created() {
        return created;
    }

    /** Whether the current thread holds a lease. */
    public boolean heldByCurrentThread() {
        return held.get() != null;
    }

    /** Frees the idle contexts; contexts still leased are freed when given back. */
    public void close() {
        Deque<C> toClose;
        synchronized (this) {
            closed = true;
            toClose = new ArrayDeque<>(idle);
            idle.clear();
        }
        for (C c : toClose) {
            closeQuietly(c);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // freeing native memory does not fail in a way the caller could act on
        }
    }
}
