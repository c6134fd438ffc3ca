package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.Arrays;

/**
 * One generation's cache for one workspace (batch, patch) of a {@link CacheSpec}: its buffers are planned once, on
 * the first step, and reused by every later step. Belongs to one execution context (one thread at a time).
 */
final class ForwardCache implements AutoCloseable {
    final CacheSpec spec;
    private final Scope scope = Scope.open();
    private final Tensor identity;   // [N*T] i32 0..N*T-1: device row copies through the gather kernel
    // step reuse
    private Tensor h0, residual, negOnes;
    private float[] previous;        // block 0's modulated input at the previous step
    private double accumulated;
    private boolean haveResidual;
    // block reuse
    private Tensor[] attnOut, mlpOut;
    private boolean haveBlocks;
    private int step;                // forwards run through this cache so far

    ForwardCache(CacheSpec spec, ForwardWorkspace ws, DiTConfig c, Device device) {
        this.spec = spec;
        long n = ws.batch, t = ws.geometry.tokens(), d = c.hiddenSize();
        try {
            int[] idx = new int[Math.toIntExact(n * t)];
            Arrays.setAll(idx, i -> i);
            identity = scope.ofInts(device, idx, idx.length);
            if (spec.kind() == CacheSpec.Kind.STEP) {
                h0 = scope.empty(device, DType.F32, n, t, d);
                residual = scope.empty(device, DType.F32, n, t, d);
                float[] minus = new float[Math.toIntExact(n * d)];
                Arrays.fill(minus, -1f);
                negOnes = scope.of(device, minus, n, d);
            } else {
                attnOut = new Tensor[c.depth()];
                mlpOut = new Tensor[c.depth()];
                for (int i = 0; i < c.depth(); i++) {
                    attnOut[i] = scope.empty(device, DType.F32, n, t, d);
                    mlpOut[i] = scope.empty(device, DType.F32, n, t, d);
                }
            }
        } catch (RuntimeException | Error e) {
            scope.close();
            throw e;
        }
    }

    /** dst = src, both [N,T,D] on the device (row gather with the identity index). */
    void copy(Tensor src, Tensor dst, long rows, long d) {
        try (Tensor s = src.reshape(rows, d); Tensor o = dst.reshape(rows, d)) {
            Ops.gatherRows(s, identity, o);
        }
    }

    // ---- step reuse ----

    /**
     * Adds this step's relative L1 change of block 0's modulated input u0 (mean |u − u_prev| / mean |u_prev|) to the
     * sum; true when the step may reuse the last residual (the sum is below the threshold and a residual exists).
     */
    boolean reuseStep(float[] u0) {
        boolean reuse = false;
        if (previous != null && haveResidual) {
            double diff = 0, base = 0;
            for (int i = 0; i < u0.length; i++) {
                diff += Math.abs((double) u0[i] - previous[i]);
                base += Math.abs((double) previous[i]);
            }
            accumulated += base > 0 ? diff / base : Double.POSITIVE_INFINITY;
            reuse = accumulated < spec.threshold();
        }
        if (!reuse) {
            accumulated = 0;
        }
        previous = u0;
        step++;
        return reuse;
    }

    /** Before the blocks of a computed step: keep their input. */
    void keepInput(Tensor h, long rows, long d) {
        copy(h, h0, rows, d);
    }

    /** After the blocks of a computed step: residual = h − input (exactly h + (−1)·input, one rounding). */
    void keepResidual(Tensor h, long rows, long d) {
        copy(h, residual, rows, d);
        Ops.gatedResidualAdd(residual, negOnes, h0);
        haveResidual = true;
    }

    /** A reused step: h += the last residual. */
    void applyResidual(Tensor h) {
        Ops.gatedResidualAdd(h, null, residual);
    }

    // ---- block reuse ----

    /** Whether this step runs the blocks (every interval-th step, and until a full step has filled the cache). */
    boolean fullStep() {
        boolean full = !haveBlocks || step % spec.interval() == 0;
        step++;
        return full;
    }

    Tensor attnOut(int block) {
        return attnOut[block];
    }

    Tensor mlpOut(int block) {
        return mlpOut[block];
    }

    void blocksFilled() {
        haveBlocks = true;
    }

    @Override
    public void close() {
        scope.close();
    }
}
