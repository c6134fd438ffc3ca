package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A CUDA graph: the ops a piece of code issues on a CUDA device, captured once (checked and recorded, not run)
 * and replayed with {@link #launch()} on the same tensors, whatever they hold by then. The captured code must
 * not read, write or zero tensors (those are host synchronisations and fail the capture), so it suits a forward
 * whose shapes the step plan fixes, with inputs written before and outputs read after the launch.
 * A graph dropped without close() is freed after garbage collection.
 *
 * <p>Thread-safety: not thread-safe; one owner launches and closes it (a model keeps one per execution context).
 */
public final class CudaGraph implements AutoCloseable {
    private static final java.lang.ref.Cleaner CLEANER = java.lang.ref.Cleaner.create();

    /** The native graph, freed once by close() or by the Cleaner; holds no reference to the CudaGraph. */
    private static final class Owned implements Runnable {
        private DynditNative.dd_graph handle;

        Owned(DynditNative.dd_graph handle) {
            this.handle = handle;
        }

        @Override
        public synchronized void run() {
            if (handle != null) {
                DynditNative.dd_graph_free(handle);
                handle = null;
            }
        }
    }

    private final Owned owned;
    private final java.lang.ref.Cleaner.Cleanable cleanable;

    private CudaGraph(DynditNative.dd_graph handle) {
        this.owned = new Owned(handle);
        this.cleanable = CLEANER.register(this, owned);
    }

    /** Captures what {@code body} issues on {@code device} (a CUDA device; the CPU has no graphs). */
    public static CudaGraph capture(Device device, Runnable body) {
        device.checkAvailable();
        int type = device.type().code();
        NativeErrors.check(DynditNative.dd_graph_begin(type, device.index()), "graph capture on " + device);
        RuntimeException failure = null;
        try {
            body.run();
        } catch (RuntimeException e) {
            failure = e;
        }
        try (PointerPointer<DynditNative.dd_graph> out = new PointerPointer<>(1)) {
            int status = DynditNative.dd_graph_end(type, out); // always ends the capture, even after a failure
            DynditNative.dd_graph handle = status == 0 ? out.get(DynditNative.dd_graph.class, 0) : null;
            if (failure != null) {
                DynditNative.dd_graph_free(handle);
                throw failure;
            }
            NativeErrors.check(status, "graph capture on " + device);
            return new CudaGraph(handle);
        }
    }

    public void launch() {
        synchronized (owned) {
            if (owned.handle == null) {
                throw new IllegalStateException("CUDA graph already closed");
            }
            NativeErrors.check(DynditNative.dd_graph_launch(owned.handle), "graph launch");
        }
    }

    @Override
    public void close() {
        cleanable.clean();
    }
}
