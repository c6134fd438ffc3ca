package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;

/**
 * Profiler ranges around the stages of the forward and the sampler (NVTX in CUDA builds: Nsight Systems shows
 * blocks, attention, MLP, routers and sampler steps as nested ranges). Push and pop must pair up on one thread.
 *
 * <p>Thread-safety: safe from any thread; ranges nest per thread, so each pop belongs on the thread of its push.
 */
public final class Ranges {
    private Ranges() {}

    public static void push(String name) {
        NativeLoader.ensureLoaded();
        DynditNative.dd_range_push(name);
    }

    public static void pop() {
        DynditNative.dd_range_pop();
    }

    /** Starts (and resets) or stops the in-process count of pushed ranges. */
    public static void record(boolean on) {
        NativeLoader.ensureLoaded();
        DynditNative.dd_range_record(on ? 1 : 0);
    }

    public static long count() {
        return DynditNative.dd_range_count();
    }

    public static int maxDepth() {
        return DynditNative.dd_range_max_depth();
    }

    /** Ranges open on this thread now (0 when every push was popped). */
    public static int depth() {
        NativeLoader.ensureLoaded();
        return DynditNative.dd_range_depth();
    }
}
