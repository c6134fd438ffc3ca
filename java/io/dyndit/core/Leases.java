package io.dyndit.core;

import io.dyndit.nativelib.DynditNative.dd_tensor;
import java.util.Arrays;

/**
 * The tensors one native call uses, leased for its duration ({@code try (Leases l = new Leases()) {
 * native(l.of(a), l.of(b)); }}): a concurrent close() of any of them waits for the release before freeing.
 * One per call, on one thread.
 */
final class Leases implements AutoCloseable {
    private TensorHandle[] held = new TensorHandle[8];
    private int count;

    /** The tensor's pointer, leased until close(); null for a null tensor; a closed tensor throws. */
    dd_tensor of(Tensor t) {
        if (t == null) {
            return null;
        }
        TensorHandle h = t.nativeHandle();
        dd_tensor p = h.lease();
        if (p == null) {
            throw t.closedError();
        }
        if (count == held.length) {
            held = Arrays.copyOf(held, 2 * count);
        }
        held[count++] = h;
        return p;
    }

    @Override
    public void close() {
        while (count > 0) {
            held[--count].release();
        }
    }
}
