package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/** Every buffer of one DiT forward at batch size N, allocated once and reused by later calls. */
final class ForwardWorkspace implements AutoCloseable {
    private final Scope scope = Scope.open();
    final int batch;
    final PatchGeometry geometry;
    final Tensor x, t, y;           // inputs: [N,C,I,I] f32, [N] f32, [N] i32
    final Tensor patches, h;        // [N,T,C p p], [N,T,D] residual stream
    final Tensor tFreq, t1, c, yEmb, cSilu; // [N,256], [N,D] ...
    final Tensor c3, yEmb3;         // [N,1,D] views for the c = t_emb + y_emb add
    final Tensor u, qkv, q, k, v, attn, attnFlat, proj, fc1, fc2;
    final Tensor finalAda, finalTokens, out;
    final Tensor adaAll;            // [N, depth * 6D]: every block's adaLN from one GEMV per forward
    private final Tensor[] adaBlock;       // block i's [N, 6D] view of adaAll
    private final Tensor[][] adaBlockChunks; // and its six [N, D] chunks
    /** The current block's adaLN ([N, 6D] view of adaAll) and its chunks; {@link #selectBlock} sets them. */
    Tensor ada;
    final Tensor[] adaChunks = new Tensor[6]; // shift/scale/gate (msa), shift/scale/gate (mlp) views of ada
    final Tensor finalShift, finalScale;
    // token routing (DyDiT spatial tokens): router hidden/logits, kept-token lists, ragged rows
    final Tensor tokHidden, tokLogits, tokLogits2d, tokIndex, tokSample, tokCounts;
    final Tensor hFlat, rows, rowsOut; // [N*T, D] views / buffers for gathered tokens
    final Tensor tokScores, tokScores2d, tokScoresFlat, keptScores; // DiffCR: sigmoid scores, gathered per kept token
    /** bf16 twins of qkv and attn for the fused full-width blocks in bf16 precision. */
    final AttentionBuffers bf16;
    private final Map<ViewKey, Tensor> views = new HashMap<>();
    private final DiTConfig config;
    private final Device device;
    private ConditioningTable conditioning; // planned on first use (null: none fits)
    private boolean conditioningPlanned;
    /** This forward's slot of {@link #conditioning()}, or -1: the forward makes its own adaLN. */
    int conditioningSlot = -1;
    private final Tensor fc1Bf16, uBf16; // bf16 twins of fc1 (the bf16 forwards' MLP hidden) and u (the CPU's)

    /**
     * qkv (channel s*D + h*hd + e for s = q, k, v: [N,T,3,H,hd], viewed per s as [N,T,H,hd]) and attn ([N,T,H,hd],
     * viewed as [N,T,D]) in one dtype: the workspace's f32 ones and their bf16 twins (in bf16 GEMM precision the qkv
     * linear writes bf16, attention reads and writes bf16 and the proj linear reads it; the MLP hidden is
     * {@link #fc1Bf16()}): half the bytes, read by the kernels without a conversion pass.
     */
    static final class AttentionBuffers {
        final Tensor qkv, q, k, v, attn, attnFlat;

        private AttentionBuffers(Scope scope, Device dev, DType dtype, long n, long tk, long d, long heads, long hd) {
            qkv = scope.empty(dev, dtype, n, tk, 3 * d);
            long[] qs = {n, tk, heads, hd}, st = {tk * 3 * d, 3 * d, hd, 1};
            q = scope.track(qkv.view(qs, st, 0));
            k = scope.track(qkv.view(qs, st, d));
            v = scope.track(qkv.view(qs, st, 2 * d));
            attn = scope.empty(dev, dtype, n, tk, heads, hd);
            attnFlat = scope.track(attn.reshape(n, tk, d));
        }

        /** Their values per sample. */
        static long valuesPerSample(long tk, long d) {
            return tk * (3 * d + d);
        }
    }

    private record ViewKey(Tensor base, String shape, String strides, long offset) {}

    /** The native bytes the constructor allocates (each buffer below), for a memory check before allocating. */
    static long bytes(DiTConfig cfg, PatchGeometry g, long n) {
        long d = cfg.hiddenSize(), tk = g.tokens(), pp = (long) g.patch() * g.patch(), side = cfg.inputSize();
        long perSample = cfg.inChannels() * side * side + cfg.outChannels() * side * side + 2 + tk * cfg.inChannels() * pp
                + 256 + 4 * d + cfg.depth() * 6L * d + 2 * d + tk * (d + d + 3 * d + d + d + cfg.mlpHidden() + d) + tk * pp * cfg.outChannels()
                + tk * Math.max(1, d / 16) + tk + 2 * tk + 1 + tk + tk + 2 * tk * d;
        long bf16PerSample = tk * (cfg.mlpHidden() + d) // the bf16 twins of u and fc1, qkv and attn
                + AttentionBuffers.valuesPerSample(tk, d);
        try {
            return Math.addExact(Math.multiplyExact(4L, Math.multiplyExact(n, perSample)),
                    Math.multiplyExact(2L, Math.multiplyExact(n, bf16PerSample)));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Points {@link #ada} and {@link #adaChunks} at block {@code b}'s slice of adaAll (no allocation). */
    void selectBlock(int b) {
        ada = adaBlock[b];
        System.arraycopy(adaBlockChunks[b], 0, adaChunks, 0, 6);
    }

    /**
     * The generation's conditioning rows made ahead, planned on first use (null: none fit); the forward copies its
     * adaLN from slot {@link #conditioningSlot} when that is >= 0 and makes it itself otherwise.
     */
    ConditioningTable conditioning() {
        if (!conditioningPlanned) {
            conditioningPlanned = true;
            conditioning = ConditioningTable.plan(config, batch, device);
        }
        return conditioning;
    }

    ForwardWorkspace(DiTConfig cfg, PatchGeometry geometry, Device dev, int n) {
        config = cfg;
        device = dev;
        MemoryCheck.require(dev, bytes(cfg, geometry, n),
                () -> "the forward workspace for batch " + n + " at patch " + geometry.patch());
        try {
            batch = n;
            this.geometry = geometry;
            long d = cfg.hiddenSize(), tk = geometry.tokens(), p = geometry.patch(), ch = cfg.inChannels();
            long hd = cfg.headDim(), heads = cfg.numHeads();
            x = scope.empty(dev, DType.F32, n, ch, cfg.inputSize(), cfg.inputSize());
            t = scope.empty(dev, DType.F32, n);
            y = scope.empty(dev, DType.I32, n);
            patches = scope.empty(dev, DType.F32, n, tk, ch * p * p);
            h = scope.empty(dev, DType.F32, n, tk, d);
            tFreq = scope.empty(dev, DType.F32, n, 256);
            t1 = scope.empty(dev, DType.F32, n, d);
            c = scope.empty(dev, DType.F32, n, d);
            yEmb = scope.empty(dev, DType.F32, n, d);
            cSilu = scope.empty(dev, DType.F32, n, d);
            c3 = scope.track(c.reshape(n, 1, d));
            yEmb3 = scope.track(yEmb.reshape(n, 1, d));
            adaAll = scope.empty(dev, DType.F32, n, cfg.depth() * 6 * d);
            adaBlock = new Tensor[cfg.depth()];
            adaBlockChunks = new Tensor[cfg.depth()][6];
            for (int b = 0; b < adaBlock.length; b++) {
                adaBlock[b] = scope.track(adaAll.narrow(1, b * 6 * d, 6 * d));
                for (int i = 0; i < 6; i++) {
                    adaBlockChunks[b][i] = scope.track(adaAll.narrow(1, (b * 6L + i) * d, d));
                }
            }
            selectBlock(0);
            u = scope.empty(dev, DType.F32, n, tk, d);
            AttentionBuffers f32 = new AttentionBuffers(scope, dev, DType.F32, n, tk, d, heads, hd);
            qkv = f32.qkv;
            q = f32.q;
            k = f32.k;
            v = f32.v;
            attn = f32.attn;
            attnFlat = f32.attnFlat;
            proj = scope.empty(dev, DType.F32, n, tk, d);
            fc1 = scope.empty(dev, DType.F32, n, tk, cfg.mlpHidden());
            fc2 = scope.empty(dev, DType.F32, n, tk, d);
            uBf16 = scope.empty(dev, DType.BF16, n, tk, d);
            fc1Bf16 = scope.empty(dev, DType.BF16, n, tk, cfg.mlpHidden());
            finalAda = scope.empty(dev, DType.F32, n, 2 * d);
            finalShift = scope.track(finalAda.narrow(1, 0, d));
            finalScale = scope.track(finalAda.narrow(1, d, d));
            finalTokens = scope.empty(dev, DType.F32, n, tk, p * p * cfg.outChannels());
            out = scope.empty(dev, DType.F32, n, cfg.outChannels(), cfg.inputSize(), cfg.inputSize());
            tokHidden = scope.empty(dev, DType.F32, n, tk, Math.max(1, d / 16));
            tokLogits = scope.empty(dev, DType.F32, n, tk, 1);
            tokLogits2d = scope.track(tokLogits.reshape(n, tk));
            tokIndex = scope.empty(dev, DType.I32, n * tk);
            tokSample = scope.empty(dev, DType.I32, n * tk);
            tokCounts = scope.empty(dev, DType.I32, n);
            hFlat = scope.track(h.reshape(n * tk, d));
            rows = scope.empty(dev, DType.F32, n * tk, d);
            tokScores = scope.empty(dev, DType.F32, n, tk, 1);
            tokScores2d = scope.track(tokScores.reshape(n, tk));
            tokScoresFlat = scope.track(tokScores.reshape(n * tk, 1));
            keptScores = scope.empty(dev, DType.F32, n * tk, 1);
            rowsOut = scope.empty(dev, DType.F32, n * tk, d);
            bf16 = new AttentionBuffers(scope, dev, DType.BF16, n, tk, d, heads, hd);
        } catch (RuntimeException | Error e) { // what was allocated so far is freed
            scope.close();
            throw e;
        }
    }

    /** The modulated LayerNorm output in bf16 (same shape as u). */
    Tensor uBf16() {
        return uBf16;
    }

    /** The MLP hidden in bf16 (same shape as fc1). */
    Tensor fc1Bf16() {
        return fc1Bf16;
    }

    /** A view of {@code base}, created the first time this shape is asked for and reused afterwards. */
    Tensor view(Tensor base, long[] shape, long[] strides, long offset) {
        ViewKey key = new ViewKey(base, Arrays.toString(shape), Arrays.toString(strides), offset);
        Tensor v = views.get(key);
        if (v == null) {
            v = scope.track(base.view(shape, strides, offset));
            views.put(key, v);
        }
        return v;
    }

    /** The dense prefix of {@code base} shaped {@code shape}. */
    Tensor prefix(Tensor base, long... shape) {
        long[] st = new long[shape.length];
        long n = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = n;
            n *= shape[i];
        }
        return view(base, shape, st, 0);
    }

    @Override
    public void close() {
        if (conditioning != null) {
            conditioning.close();
        }
        scope.close();
    }
}
