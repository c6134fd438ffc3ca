package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.Arrays;

/**
 * A generation's cache for one workspace (batch, patch) of a {@link CacheSpec}: its buffers are planned once, on
 * the first step, and reused by every later step and, after {@link #reset}, by later generations. Belongs to one
 * execution context (one thread at a time).
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
    // block reuse: the last full step's branch outputs, and (order 1) the one before
    private Tensor[] attnOut, mlpOut, attnPrev, mlpPrev;
    private Tensor coefLast, coefPrev; // [N,D] order-1 extrapolation factors (1 + c on last is split as last + c·last)
    private float[] coefHost;
    private float coefSet = Float.NaN;
    private int fullSteps, lastFull = -1, prevFull = -1;
    private int step, current;       // forwards run through this cache so far; the index of the running one
    // token reuse
    final TokenCache tokens;

    /** The native bytes a cache of {@code spec} holds for a workspace of n samples with t tokens. */
    static long bytes(CacheSpec spec, DiTConfig c, long n, long t) {
        long d = c.hiddenSize(), per = n * t * d * 4;
        return switch (spec.kind()) {
            case STEP -> 2 * per + n * d * 4;
            case BLOCK -> c.depth() * per * (spec.order() == 1 ? 4 : 2) + 2 * n * d * 4;
            case TOKEN -> TokenCache.bytes(c, n, t);
            case NONE -> 0;
        } + n * t * 4;
    }

    ForwardCache(CacheSpec spec, ForwardWorkspace ws, DiTConfig c, Device device) {
        this.spec = spec;
        long n = ws.batch, t = ws.geometry.tokens(), d = c.hiddenSize();
        MemoryCheck.require(device, bytes(spec, c, n, t), () -> "the " + spec + " cache for batch " + n);
        TokenCache tc = null;
        try {
            int[] idx = new int[Math.toIntExact(n * t)];
            Arrays.setAll(idx, i -> i);
            identity = scope.ofInts(device, idx, idx.length);
            if (spec.kind() == CacheSpec.Kind.STEP) {
                h0 = scope.empty(device, DType.F32, n, t, d);
                residual = scope.empty(device, DType.F32, n, t, d);
                negOnes = scope.of(device, filled(n * d, -1f), n, d);
            } else if (spec.kind() == CacheSpec.Kind.BLOCK) {
                attnOut = buffers(c.depth(), device, n, t, d);
                mlpOut = buffers(c.depth(), device, n, t, d);
                if (spec.order() == 1) {
                    attnPrev = buffers(c.depth(), device, n, t, d);
                    mlpPrev = buffers(c.depth(), device, n, t, d);
                    coefLast = scope.empty(device, DType.F32, n, d);
                    coefPrev = scope.empty(device, DType.F32, n, d);
                    coefHost = new float[Math.toIntExact(n * d)];
                }
            } else if (spec.kind() == CacheSpec.Kind.TOKEN) {
                tc = new TokenCache(spec, ws, c, device, this);
            }
        } catch (RuntimeException | Error e) {
            scope.close();
            throw e;
        }
        tokens = tc;
    }

    private Tensor[] buffers(int count, Device device, long n, long t, long d) {
        Tensor[] b = new Tensor[count];
        for (int i = 0; i < count; i++) {
            b[i] = scope.empty(device, DType.F32, n, t, d);
        }
        return b;
    }

    private static float[] filled(long count, float v) {
        float[] a = new float[Math.toIntExact(count)];
        Arrays.fill(a, v);
        return a;
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

    /**
     * Whether this step runs the blocks (every interval-th step, and until a full step has filled the cache); on a
     * cached step of order 1 with two full steps behind it, sets the extrapolation factor c = (k − k1) / (k1 − k0).
     */
    boolean fullStep() {
        current = step++;
        boolean full = fullSteps == 0 || current % spec.interval() == 0;
        if (!full && extrapolates()) {
            float c = (float) ((double) (current - lastFull) / (lastFull - prevFull));
            if (c != coefSet) {
                Arrays.fill(coefHost, c);
                coefLast.copyFrom(coefHost);
                Arrays.fill(coefHost, -c);
                coefPrev.copyFrom(coefHost);
                coefSet = c;
            }
        }
        return full;
    }

    private boolean extrapolates() {
        return spec.order() == 1 && fullSteps >= 2;
    }

    /** A full step's attention branch output of block i, kept (order 1: the previous one moves back). */
    void keepAttn(int block, Tensor proj, long rows, long d) {
        keep(attnOut, attnPrev, block, proj, rows, d);
    }

    /** As keepAttn, for the MLP branch. */
    void keepMlp(int block, Tensor fc2, long rows, long d) {
        keep(mlpOut, mlpPrev, block, fc2, rows, d);
    }

    private void keep(Tensor[] last, Tensor[] prev, int block, Tensor src, long rows, long d) {
        if (spec.order() == 1) { // the buffers swap roles: no copy of the older output
            Tensor t = prev[block];
            prev[block] = last[block];
            last[block] = t;
        }
        copy(src, last[block], rows, d);
    }

    /** The attention branch output a cached step adds for block i (order 1: written into {@code scratch}). */
    Tensor attnOut(int block, Tensor scratch, long rows, long d) {
        return extrapolates() ? extrapolate(attnOut[block], attnPrev[block], scratch, rows, d) : attnOut[block];
    }

    /** As attnOut, for the MLP branch. */
    Tensor mlpOut(int block, Tensor scratch, long rows, long d) {
        return extrapolates() ? extrapolate(mlpOut[block], mlpPrev[block], scratch, rows, d) : mlpOut[block];
    }

    /** scratch = last + c·last − c·prev = last + c (last − prev). */
    private Tensor extrapolate(Tensor last, Tensor prev, Tensor scratch, long rows, long d) {
        copy(last, scratch, rows, d);
        Ops.gatedResidualAdd(scratch, coefLast, last);
        Ops.gatedResidualAdd(scratch, coefPrev, prev);
        return scratch;
    }

    /** After a full step: the branch outputs of every block are in the cache. */
    void blocksFilled() {
        fullSteps++;
        prevFull = lastFull;
        lastFull = current;
    }

    /** Forgets every cached value (a new generation); the buffers stay planned and are filled before any read. */
    void reset() {
        previous = null;
        accumulated = 0;
        haveResidual = false;
        coefSet = Float.NaN;
        fullSteps = 0;
        lastFull = -1;
        prevFull = -1;
        step = 0;
        current = 0;
        if (tokens != null) {
            tokens.reset();
        }
    }

    @Override
    public void close() {
        scope.close();
    }

    Scope scope() {
        return scope;
    }
}
