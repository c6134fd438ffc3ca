package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.Arrays;

/**
 * The adaLN modulation (every block's and the final layer's) of the steps a generation runs next, made in one pass
 * over their weights. At a few rows these products are memory-bound (DiT-B/2: 170 MB of fp32 weights for a guided
 * step's 2 rows, ~8 ms), so a window of steps costs about what one step does. The conditioning's linears are
 * row-invariant ({@link Ops#linearRowInvariant}): a row made here is bit for bit the row the step's own forward would
 * make, and it depends on (timestep, label) alone, so steps find their rows by value. Up to 64 rows and 32 MiB. Not
 * thread-safe (one workspace of one execution context).
 */
final class ConditioningTable implements AutoCloseable {
    private static final long MAX_BYTES = 32L << 20;
    private static final int MAX_ROWS = 64;

    private final Scope scope = Scope.open();
    private final int n, slots;
    private final Tensor t, y, tFreq, t1, c, c3, yEmb, yEmb3, cSilu, ada, fin;
    private final Tensor[] adaSlot, finSlot;
    private final float[] slotT;   // each slot's timestep (NaN: none yet)
    private final int[] labels;    // the labels every slot was made for
    private final float[] tRows;
    private final int[] yRows;

    /** The table for batch n, or null where fewer than two steps' rows fit (nothing to gain). */
    static ConditioningTable plan(DiTConfig c, int n, Device device) {
        long d = c.hiddenSize(), rowBytes = 4 * (c.depth() * 6L * d + 2 * d + 4 * d + 256 + 2);
        int slots = (int) (Math.min(MAX_ROWS, MAX_BYTES / rowBytes) / n);
        return slots < 2 ? null : new ConditioningTable(c, n, slots, device);
    }

    private ConditioningTable(DiTConfig cfg, int n, int slots, Device dev) {
        this.n = n;
        this.slots = slots;
        long d = cfg.hiddenSize(), r = (long) n * slots, adaWidth = cfg.depth() * 6L * d;
        try {
            t = scope.empty(dev, DType.F32, r);
            y = scope.empty(dev, DType.I32, r);
            tFreq = scope.empty(dev, DType.F32, r, 256);
            t1 = scope.empty(dev, DType.F32, r, d);
            c = scope.empty(dev, DType.F32, r, d);
            c3 = scope.track(c.reshape(r, 1, d));
            yEmb = scope.empty(dev, DType.F32, r, d);
            yEmb3 = scope.track(yEmb.reshape(r, 1, d));
            cSilu = scope.empty(dev, DType.F32, r, d);
            ada = scope.empty(dev, DType.F32, r, adaWidth);
            fin = scope.empty(dev, DType.F32, r, 2 * d);
            adaSlot = new Tensor[slots];
            finSlot = new Tensor[slots];
            for (int s = 0; s < slots; s++) {
                adaSlot[s] = scope.track(ada.narrow(0, (long) s * n, n));
                finSlot[s] = scope.track(fin.narrow(0, (long) s * n, n));
            }
        } catch (RuntimeException | Error e) {
            scope.close();
            throw e;
        }
        slotT = new float[slots];
        Arrays.fill(slotT, Float.NaN);
        labels = new int[n];
        tRows = new float[slots * n];
        yRows = new int[slots * n];
    }

    /** The slot holding timestep t for these labels, or -1. */
    int slot(float t, long[] y) {
        for (int i = 0; i < n; i++) {
            if (labels[i] != (int) y[i]) {
                return -1;
            }
        }
        for (int s = 0; s < slots; s++) {
            if (slotT[s] == t) {
                return s;
            }
        }
        return -1;
    }

    /**
     * Makes the rows of timesteps[from ..] (as many as there are slots; the last one repeated past the end) for labels
     * y, as ForwardPass's embedding and adaLN make them (the same ops, row-invariant linears); returns slot 0 (from's).
     */
    int fill(float[] timesteps, int from, long[] y, DiTWeights w) {
        Arrays.fill(slotT, Float.NaN); // no slot matches until its rows are made
        float[] made = new float[slots];
        for (int s = 0; s < slots; s++) {
            made[s] = timesteps[Math.min(from + s, timesteps.length - 1)];
            for (int i = 0; i < n; i++) {
                tRows[s * n + i] = made[s];
                yRows[s * n + i] = (int) y[i];
            }
        }
        this.t.copyFrom(tRows);
        this.y.copyFrom(yRows);
        Ops.timestepEmbedding(this.t, 10000f, tFreq);
        Ops.linearRowInvariant(tFreq, w.t0W, w.t0B, t1);
        Ops.silu(t1, t1);
        Ops.linearRowInvariant(t1, w.t2W, w.t2B, c);
        Ops.gatherRows(w.labelTable, this.y, yEmb);
        Ops.gatedResidualAdd(c3, null, yEmb3);
        Ops.silu(c, cSilu);
        Ops.linearRowInvariant(cSilu, w.adaAllW, w.adaAllB, ada);
        Ops.linearRowInvariant(cSilu, w.finalAdaW, w.finalAdaB, fin);
        for (int i = 0; i < n; i++) {
            labels[i] = (int) y[i];
        }
        System.arraycopy(made, 0, slotT, 0, slots);
        return 0;
    }

    /** Slot s's rows into a forward's adaAll [N, depth·6D] and finalAda [N, 2D]. */
    void copy(int s, Tensor adaAll, Tensor finalAda) {
        Ops.copy(adaSlot[s], adaAll);
        Ops.copy(finSlot[s], finalAda);
    }

    @Override
    public void close() {
        scope.close();
    }
}
