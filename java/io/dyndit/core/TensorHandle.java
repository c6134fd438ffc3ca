package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import io.dyndit.nativelib.DynditNative.dd_tensor;
import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The native handle of one {@link Tensor}, shared by the tensor, the ops using it and its GC safety net. An op
 * leases the handle for the duration of its native call; close() (or the {@link Cleaner}, when a tensor is dropped
 * without close) marks it closed, and the native memory is freed once no lease is left, so a tensor closed by one
 * thread while another thread's op is reading it is never freed under that op. Holds no reference to the Tensor.
 */
final class TensorHandle implements Runnable {
    private static final Cleaner CLEANER = Cleaner.create();
    /** Bytes of owning (non-view) tensors not yet freed, closed or collected. */
    private static final AtomicLong LIVE_BYTES = new AtomicLong();
    private static final AtomicLong LIVE_HANDLES = new AtomicLong();
    /** Live bytes at which the next allocation asks for a GC, so that dropped tensors' cleaners get to run. */
    private static final long GC_FLOOR = 1L << 30;
    private static final AtomicLong NEXT_GC_AT = new AtomicLong(GC_FLOOR);

    private final dd_tensor ptr;
    private final long ownedBytes;
    private int leases;
    private boolean closed;
    private boolean freed;
    private Cleaner.Cleanable cleanable;

    private TensorHandle(dd_tensor ptr, long ownedBytes) {
        this.ptr = ptr;
        this.ownedBytes = ownedBytes;
    }

    /** Takes ownership of {@code ptr} for {@code owner}: freed when owner is closed or becomes unreachable. */
    static TensorHandle register(Tensor owner, dd_tensor ptr, long ownedBytes) {
        TensorHandle h = new TensorHandle(ptr, ownedBytes);
        long live = LIVE_BYTES.addAndGet(ownedBytes);
        long at = NEXT_GC_AT.get();
        if (live > at && NEXT_GC_AT.compareAndSet(at, Long.MAX_VALUE)) {
            // The Java heap does not see native memory: without this, tensors dropped unclosed could pile up for long
            System.gc();
            NEXT_GC_AT.set(Math.max(GC_FLOOR, 2 * LIVE_BYTES.get()));
        }
        LIVE_HANDLES.incrementAndGet();
        h.cleanable = CLEANER.register(owner, h);
        return h;
    }

    /** The pointer for one native call, or null when closed; every non-null result needs one {@link #release()}. */
    synchronized dd_tensor lease() {
        if (closed) {
            return null;
        }
        leases++;
        return ptr;
    }

    void release() {
        boolean free;
        synchronized (this) {
            leases--;
            free = closed && leases == 0 && !freed;
            freed |= free;
        }
        if (free) {
            freeNative();
        }
    }

    synchronized boolean isClosed() {
        return closed;
    }

    /** close(): deregisters the safety net and frees now, or when the last running op releases its lease. */
    void close() {
        cleanable.clean(); // runs run() at most once
    }

    /** The Cleaner's action (also what close() runs). */
    @Override
    public void run() {
        boolean free;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            free = leases == 0 && !freed;
            freed |= free;
        }
        if (free) {
            freeNative();
        }
    }

    private void freeNative() {
        DynditNative.dd_tensor_free(ptr);
        ptr.setNull();
        LIVE_BYTES.addAndGet(-ownedBytes);
        LIVE_HANDLES.decrementAndGet();
    }

    /** Native bytes held by tensors that were neither closed nor collected yet (views count zero). */
    static long liveBytes() {
        return LIVE_BYTES.get();
    }

    static long liveHandles() {
        return LIVE_HANDLES.get();
    }
}
