package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.Arrays;

/**
 * Token caching ({@code token:F[,refresh=N]}, ToCa-like; definition in docs/caching.md) for one workspace of one
 * generation. A block computed in full at full width writes its qkv, its attention and MLP branch outputs (before
 * their gates) and the attention mass each token received (its importance) straight into the cache; on the cached steps between full steps
 * the block recomputes only the k = ceil(F·T) tokens per sample with the highest score (importance + staleness / N)
 * and reuses the cached outputs of the others. Buffers are planned once, with the cache. Not thread-safe (one
 * execution context).
 */
final class TokenCache {
    private static final float LN_EPS = 1e-6f;

    private final CacheSpec spec;
    private final DiTConfig c;
    private final int n, t, k;
    private final Tensor[] qkv, q, kk, v, qkvRows, attnOut, attnRows, mlpOut, mlpRows;
    private final Tensor mass, index, sampleOfRow;
    private final float[][] importance;
    private final int[][] staleness;     // steps since the token was last computed, per block
    private final boolean[] filled;
    private final long[] keys;           // selection scratch: (descending score, ascending token) per sample
    private final int[] chosen;
    private int step;
    private boolean scoresRecomputed;

    static long bytes(DiTConfig c, long n, long t) {
        long d = c.hiddenSize();
        return 4 * (c.depth() * n * t * 5 * d + 3 * n * t);
    }

    TokenCache(CacheSpec spec, ForwardWorkspace ws, DiTConfig c, Device device, ForwardCache owner) {
        this.spec = spec;
        this.c = c;
        this.n = ws.batch;
        this.t = ws.geometry.tokens();
        this.k = Math.max(1, Math.min(t, (int) Math.ceil(spec.fraction() * t - 1e-9)));
        Scope scope = owner.scope();
        long d = c.hiddenSize(), hd = c.headDim(), heads = c.numHeads();
        int depth = c.depth();
        qkv = new Tensor[depth];
        q = new Tensor[depth];
        kk = new Tensor[depth];
        v = new Tensor[depth];
        qkvRows = new Tensor[depth];
        attnOut = new Tensor[depth];
        attnRows = new Tensor[depth];
        mlpOut = new Tensor[depth];
        mlpRows = new Tensor[depth];
        long[] qs = {n, t, heads, hd}, st = {t * 3 * d, 3 * d, hd, 1};
        for (int i = 0; i < depth; i++) {
            qkv[i] = scope.empty(device, DType.F32, n, t, 3 * d);
            q[i] = scope.track(qkv[i].view(qs, st, 0));
            kk[i] = scope.track(qkv[i].view(qs, st, d));
            v[i] = scope.track(qkv[i].view(qs, st, 2 * d));
            qkvRows[i] = scope.track(qkv[i].reshape((long) n * t, 3 * d));
            attnOut[i] = scope.empty(device, DType.F32, n, t, d);
            attnRows[i] = scope.track(attnOut[i].reshape((long) n * t, d));
            mlpOut[i] = scope.empty(device, DType.F32, n, t, d);
            mlpRows[i] = scope.track(mlpOut[i].reshape((long) n * t, d));
        }
        mass = scope.empty(device, DType.F32, n, t);
        index = scope.empty(device, DType.I32, (long) n * k);
        int[] sample = new int[n * k];
        Arrays.setAll(sample, r -> r / k);
        sampleOfRow = scope.ofInts(device, sample, sample.length);
        importance = new float[depth][];
        staleness = new int[depth][n * t];
        filled = new boolean[depth];
        keys = new long[t];
        chosen = new int[n * k];
    }

    /** Forgets every cached value and score (a new generation). */
    void reset() {
        step = 0;
        Arrays.fill(filled, false);
        Arrays.fill(importance, null);
        for (int[] s : staleness) {
            Arrays.fill(s, 0);
        }
    }

    /** Whether this step is full: every refresh-th step of the cache, and until a full step has filled it. */
    boolean fullStep() {
        int current = step++;
        boolean any = false;
        for (boolean f : filled) {
            any |= f;
        }
        return !any || current % spec.interval() == 0 || k == t;
    }

    /** Blocks whose plan keeps every head and MLP group and routes no tokens can be token-cached. */
    static boolean eligible(io.dyndit.plan.LayerPlan lp) {
        return lp.allHeads() && lp.allGroups() && !lp.routeTokens()
                && lp.routing() != io.dyndit.plan.LayerPlan.TokenRouting.TOP_K;
    }

    boolean filled(int block) {
        return filled[block];
    }

    /** Block i's qkv buffer [N,T,3D]: a full step's qkv GEMM writes it (no copy). */
    Tensor qkv(int block) {
        return qkv[block];
    }

    /** Block i's attention branch output [N,T,D] before its gate: a full step's proj GEMM writes it. */
    Tensor attnOut(int block) {
        return attnOut[block];
    }

    /** Block i's MLP branch output [N,T,D] before its gate: a full step's fc2 GEMM writes it. */
    Tensor mlpOut(int block) {
        return mlpOut[block];
    }

    /** A full step's attention of block i on its cached q, k, v into {@code out}, keeping the key mass. */
    void attend(int block, float scale, Tensor out) {
        scoresRecomputed = Ops.attentionWithKeyMass(q[block], kk[block], v[block], scale, out, mass);
    }

    /**
     * After block i ran in full at full width into this cache's buffers (qkv, attend, attnOut, mlpOut): the key mass
     * becomes the tokens' importance. Returns the MACs the mass added (Q K^T once more where the backend recomputes
     * the scores: N·T²·D; none where it sums the attention's own probabilities).
     */
    double kept(int block) {
        importance[block] = mass.toFloatArray();
        Arrays.fill(staleness[block], 0);
        filled[block] = true;
        return scoresRecomputed ? (double) n * t * t * c.hiddenSize() : 0;
    }

    /**
     * Block i on a cached step: the chosen tokens run the attention branch (their queries against every token's
     * keys and values, the others' cached) and the MLP branch; every token adds the cached branch outputs with this
     * step's gates. Returns {attention MACs, MLP MACs}.
     */
    double[] run(int block, DiTWeights.Block b, ForwardWorkspace ws, float scale) {
        long d = c.hiddenSize(), m = c.mlpHidden(), rows = (long) n * k;
        Tensor[] a = ws.adaChunks;
        choose(block);
        Tensor xs = ws.prefix(ws.rows, rows, d), us = ws.prefix(ws.rowsOut, rows, d);
        // attention branch of the chosen tokens; their q, k, v refresh the cached ones
        Ops.gatherRows(ws.hFlat, index, xs);
        Ops.layerNormModulateRows(xs, a[0], a[1], sampleOfRow, LN_EPS, us);
        Tensor qkvS = ws.prefix(ws.qkv, rows, 3 * d);
        Ops.linear(us, b.qkvW(), b.qkvB(), qkvS);
        Ops.scatterRows(qkvRows[block], index, qkvS);
        // the chosen queries against every token's keys and values (theirs fresh, the others' cached)
        long hd = c.headDim(), heads = c.numHeads();
        Tensor qS = ws.view(ws.qkv, new long[] {n, k, heads, hd}, new long[] {k * 3 * d, 3 * d, hd, 1}, 0);
        Tensor oS = ws.prefix(ws.attn, n, k, heads, hd);
        Ops.attention(qS, kk[block], v[block], scale, oS);
        Tensor projS = ws.prefix(ws.proj, rows, d);
        Ops.linear(ws.prefix(ws.attn, rows, d), b.projW(), b.projB(), projS);
        Ops.scatterRows(attnRows[block], index, projS);
        Ops.gatedResidualAdd(ws.h, a[2], attnOut[block]);
        // MLP branch of the chosen tokens
        Ops.gatherRows(ws.hFlat, index, xs);
        Ops.layerNormModulateRows(xs, a[3], a[4], sampleOfRow, LN_EPS, us);
        Tensor fc1 = ws.prefix(ws.fc1, rows, m), fc2 = ws.prefix(ws.fc2, rows, d);
        Ops.linearGelu(us, b.fc1W(), b.fc1B(), fc1);
        Ops.linear(fc1, b.fc2W(), b.fc2B(), fc2);
        Ops.scatterRows(mlpRows[block], index, fc2);
        Ops.gatedResidualAdd(ws.h, a[5], mlpOut[block]);
        return new double[] {rows * 4 * d * d + 2.0 * n * k * t * d, rows * 2 * d * m};
    }

    /**
     * The k tokens of each sample with the highest score importance + staleness / N (ties: lower token index), as
     * global rows in ascending order, uploaded to {@code index}; their staleness restarts, the others' grows.
     */
    private void choose(int block) {
        select(importance[block], staleness[block], n, t, k, 1.0 / spec.interval(), keys, chosen);
        index.copyFrom(chosen);
    }

    /**
     * The selection rule: per sample s, the k tokens j with the highest imp[s,j] + stale[s,j]·perStep (ties: lower j),
     * written ascending as global rows s·t + j into out[s·k ..]; stale restarts at 0 for them and grows by one for the
     * others. keys: scratch of t.
     */
    static void select(float[] imp, int[] stale, int n, int t, int k, double perStep, long[] keys, int[] out) {
        for (int s = 0; s < n; s++) {
            for (int j = 0; j < t; j++) {
                float score = (float) (imp[s * t + j] + stale[s * t + j] * perStep);
                // scores are >= 0, so their bits order like the values; descending score, then ascending token
                keys[j] = ((long) (Integer.MAX_VALUE - Float.floatToIntBits(score)) << 32) | j;
            }
            Arrays.sort(keys, 0, t);
            for (int r = 0; r < k; r++) {
                out[s * k + r] = (int) keys[r];
            }
            Arrays.sort(out, s * k, (s + 1) * k);
            for (int j = 0; j < t; j++) {
                stale[s * t + j]++;
            }
            for (int r = s * k; r < (s + 1) * k; r++) {
                stale[s * t + out[r]] = 0;
                out[r] += s * t;
            }
        }
    }
}
