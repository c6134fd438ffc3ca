package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import org.bytedeco.javacpp.PointerPointer;

/**
 * A CUDA graph: the ops a piece of code issues on a CUDA device, captured once (checked and recorded, not run)
 * and replayed with {@link #launch()} on the same tensors, whatever they hold by then. The captured code must
 * not read, write or zero tensors (those are host synchronisations and fail the capture), so it suits a forward
 * whose shapes the step plan fixes, with inputs written before and outputs read after the launch.
 */
public final class CudaGraph implements AutoCloseable {
    private DynditNative.dd_graph handle;

    private CudaGraph(DynditNative.dd_graph handle) {
        this.handle = handle;
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
        if (handle == null) {
            throw new IllegalStateException("CUDA graph already closed");
        }
        NativeErrors.check(DynditNative.dd_graph_launch(handle), "graph launch");
    }

    @Override
    public void close() {
        if (handle != null) {
            DynditNative.dd_graph_free(handle);
            handle = null;
        }
    }
}
