package io.dyndit.core;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Owns native resources created through it and frees all of them, newest first, when closed:
 * {@code try (Scope s = Scope.open()) { Tensor a = s.track(Tensor.empty(...)); ... }}.
 * Not thread-safe: one scope per thread of work.
 */
public final class Scope implements AutoCloseable {
    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private boolean closed;

    private Scope() {}

    public static Scope open() {
        return new Scope();
    }

    /** Takes ownership of {@code resource}; returns it for chaining. */
    public <T extends AutoCloseable> T track(T resource) {
        if (closed) {
            closeQuietly(resource);
            throw new InvalidArgumentException("scope is already closed");
        }
        owned.push(resource);
        return resource;
    }

    public Tensor empty(Device device, DType dtype, long... shape) {
        return track(Tensor.empty(device, dtype, shape));
    }

    public Tensor zeros(Device device, DType dtype, long... shape) {
        return track(Tensor.zeros(device, dtype, shape));
    }

    public Tensor of(Device device, float[] data, long... shape) {
        return track(Tensor.of(device, data, shape));
    }

    public Tensor ofInts(Device device, int[] data, long... shape) {
        return track(Tensor.ofInts(device, data, shape));
    }

    public Tensor ofLongs(Device device, long[] data, long... shape) {
        return track(Tensor.ofLongs(device, data, shape));
    }

    /** Number of resources this scope still owns. */
    public int size() {
        return owned.size();
    }

    /** Closes everything owned, newest first; the first failure is rethrown after all were closed. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        RuntimeException first = null;
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (Exception e) {
                if (first == null) {
                    first = e instanceof RuntimeException r ? r : new DynditException("closing a scoped resource failed", e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // the caller gets the scope error instead
        }
    }
}
