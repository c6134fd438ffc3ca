package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import io.dyndit.plan.LayerPlan;
import io.dyndit.plan.StepPlan;
import io.dyndit.plan.StepPlanner;
import java.util.HashMap;
import java.util.Map;

/**
 * DyDiT's timestep-wise dynamic width: per block, the head and MLP-group routers read the timestep
 * embedding t_emb (not c) and keep unit j when sigmoid(logit) > 0.5 in float32; v2 prepends the
 * always-on unit 0. Plans depend on t only, so they are computed once per timestep and cached.
 *
 * <p>Thread-safety: thread-safe (router evaluations are serialized; they run once per timestep).
 */
public final class DyDiTPlanner implements StepPlanner, AutoCloseable {
    /** Router logits of one timestep: [layer][router output]. */
    public record Logits(float[][] attn, float[][] mlp) {}

    private final DiTConfig config;
    private final DiTWeights weights;
    private final DyDiTRouters routers;
    private final boolean routeTokens;
    private final GemmControl gemm;
    private final Scope scope = Scope.open();
    private final Tensor t, tFreq, t1, tEmb, logits;
    private final Map<Long, StepPlan> cache = new HashMap<>();

    DyDiTPlanner(DiTConfig config, DiTWeights weights, DyDiTRouters routers, Device device, boolean routeTokens,
            GemmControl gemm) {
        this.gemm = gemm;
        this.config = config;
        this.weights = weights;
        this.routers = routers;
        this.routeTokens = routeTokens;
        t = scope.empty(device, DType.F32, 1);
        tFreq = scope.empty(device, DType.F32, 1, 256);
        t1 = scope.empty(device, DType.F32, 1, config.hiddenSize());
        tEmb = scope.empty(device, DType.F32, 1, config.hiddenSize());
        logits = scope.empty(device, DType.F32, 1, routers.rows);
    }

    @Override
    public synchronized StepPlan plan(int step, long modelTimestep) {
        return cache.computeIfAbsent(modelTimestep, this::compute);
    }

    /** The raw router logits at timestep {@code t} (for tests and diagnostics). */
    public synchronized Logits logits(long timestep) {
        embed(timestep);
        int depth = config.depth();
        float[][] a = new float[depth][], m = new float[depth][];
        for (int i = 0; i < depth; i++) {
            a[i] = route(routers.attnW[i], routers.attnB[i]);
            m[i] = route(routers.mlpW[i], routers.mlpB[i]);
        }
        return new Logits(a, m);
    }

    public DyDiTRouters.Variant variant() {
        return routers.variant;
    }

    private StepPlan compute(long timestep) {
        Logits l = logits(timestep);
        LayerPlan[] layers = new LayerPlan[config.depth()];
        for (int i = 0; i < layers.length; i++) {
            layers[i] = new LayerPlan(keep(l.attn()[i]), keep(l.mlp()[i]), routeTokens);
        }
        return new StepPlan(layers);
    }

    /** Active unit indices: v2 always has unit 0, and router output j decides unit j + 1. */
    private int[] keep(float[] logit) {
        boolean v2 = routers.variant == DyDiTRouters.Variant.V2;
        int[] tmp = new int[logit.length + 1];
        int n = 0;
        if (v2) {
            tmp[n++] = 0;
        }
        for (int j = 0; j < logit.length; j++) {
            if (sigmoidAboveHalf(logit[j])) {
                tmp[n++] = v2 ? j + 1 : j;
            }
        }
        return java.util.Arrays.copyOf(tmp, n);
    }

    /** The reference's float32 decision: 1 / (1 + exp(-x)) > 0.5 after rounding to float. */
    static boolean sigmoidAboveHalf(float x) {
        float s = (float) (1.0 / (1.0 + Math.exp(-(double) x)));
        return s > 0.5f;
    }

    private void embed(long timestep) {
        t.copyFrom(new float[] {timestep});
        gemm.beginRouter();
        try {
            Ops.timestepEmbedding(t, 10000f, tFreq);
            Ops.linear(tFreq, weights.t0W, weights.t0B, t1);
            Ops.silu(t1, t1);
            Ops.linear(t1, weights.t2W, weights.t2B, tEmb);
        } finally {
            gemm.endRouter();
        }
    }

    private float[] route(Tensor w, Tensor b) {
        gemm.beginRouter();
        try {
            Ops.linear(tEmb, w, b, logits);
        } finally {
            gemm.endRouter();
        }
        return logits.toFloatArray();
    }

    @Override
    public synchronized void close() {
        scope.close();
    }
}
