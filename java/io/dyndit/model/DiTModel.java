package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Ops;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.plan.StepPlan;
import io.dyndit.plan.StepPlanner;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A DiT loaded once and called many times: the official forward (models.py) and forward_with_cfg. Buffers
 * are planned once per batch size and reused; close() frees all native memory.
 */
public final class DiTModel implements AutoCloseable {

    private final DiTConfig config;
    private final DiTWeights weights;
    private final DyDiTRouters routers;   // null: not a DyDiT checkpoint
    private final DiffCRRouters diffcr;   // null: not a DiffCR checkpoint
    private final DyDiTPlanner dydit;     // null unless DyDiT runs dynamically
    private final StepPlanner planner;    // null: static (plain DiT, or --static)
    private final StepPlan fullPlan;
    private final ForwardPass pass;
    private final Device device;
    private final Map<Long, ForwardWorkspace> workspaces = new HashMap<>();
    private final Map<Long, PackedWorkspace> packed = new HashMap<>();
    private final PatchGeometry nativeGeometry;
    private final Map<Integer, PatchGeometry> flexiGeometries = new HashMap<>();
    private final TensorFile flexiSource; // embedder/de-embedder (+ flexi.* tensors) for deriving other patch sizes
    private final io.dyndit.core.Scope flexiScope = io.dyndit.core.Scope.open();
    private final GemmControl gemm;
    private boolean cudaGraphs = true;
    private final ForwardGraphs graphs = new ForwardGraphs();
    private final DeviceRows rows;

    /**
     * Output of one forward: the model output, what a dynamic model decided, and the MACs executed in total
     * and per block (attention incl. its projections, MLP incl. the token router).
     */
    public record Result(float[] out, DynamicTrace trace, double macs, double[] attnMacs, double[] mlpMacs) {}

    private DiTModel(DiTConfig config, DiTWeights weights, DyDiTRouters routers, DiffCRRouters diffcr,
            boolean useRouters, Device device, TensorFile flexiSource) {
        this.config = config;
        this.flexiSource = flexiSource;
        this.nativeGeometry = new PatchGeometry(config.patchSize(), config.gridSize(), weights.patchW, weights.patchB,
                weights.posEmbed, weights.finalW, weights.finalB);
        this.weights = weights;
        this.routers = routers;
        this.diffcr = diffcr;
        this.device = device;
        this.gemm = new GemmControl(device);
        this.rows = new DeviceRows(device);
        this.dydit = routers != null && useRouters ? new DyDiTPlanner(config, weights, routers, device, true, gemm)
                : null;
        this.planner = dydit != null ? dydit
                : diffcr != null && useRouters ? new DiffCRPlanner(diffcr, config.tokens()) : null;
        this.fullPlan = StepPlan.full(config.depth());
        this.pass = new ForwardPass(config, weights, routers, diffcr, gemm);
    }

    /**
     * Loads a safetensors or PyTorch .pt checkpoint; config from JSON when given, else inferred from the shapes.
     * A DyDiT checkpoint (routers present) runs dynamically unless {@code staticModel} asks for the complete model.
     */
    public static DiTModel load(Path weightsFile, Path configJson, Device device, boolean staticModel) {
        try (TensorFile f = TensorFiles.open(weightsFile)) {
            DiTConfig cfg = configJson != null ? DiTConfig.fromJson(configJson) : DiTConfig.infer(f);
            return load(f, cfg, device, staticModel);
        }
    }

    public static DiTModel load(Path weightsFile, Path configJson, Device device) {
        return load(weightsFile, configJson, device, false);
    }

    public static DiTModel load(TensorFile file, DiTConfig config, Device device) {
        return load(file, config, device, false);
    }

    public static DiTModel load(TensorFile file, DiTConfig config, Device device, boolean staticModel) {
        DiTWeights w = DiTWeights.load(file, config, device);
        DyDiTRouters r = null;
        try {
            r = DyDiTRouters.loadIfPresent(file, config, device);
            return new DiTModel(config, w, r, DiffCRRouters.loadIfPresent(file, config, device), !staticModel, device,
                    io.dyndit.io.MapTensorFile.copyOf(file, n -> n.startsWith("flexi.") || n.startsWith("x_embedder.proj.")
                            || n.startsWith("final_layer.linear.")));
        } catch (RuntimeException e) {
            if (r != null) {
                r.close();
            }
            w.close();
            throw e;
        }
    }

    /** True when a DyDiT or DiffCR checkpoint runs with its routers. */
    public boolean isDynamic() {
        return planner != null;
    }

    /** The DyDiT planner (null unless DyDiT runs dynamically). */
    public DyDiTPlanner planner() {
        return dydit;
    }

    /** The plan a step at {@code modelTimestep} runs. */
    public StepPlan planFor(long modelTimestep) {
        return planner == null ? fullPlan : planner.plan(0, modelTimestep); // width/token plans depend on t only
    }

    public DiTConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /**
     * Arithmetic of the matrix products on CUDA devices (default TF32, as the official sampler runs); the routers'
     * GEMVs always run in FP32. No effect on the CPU, which computes FP32.
     */
    public DiTModel precision(io.dyndit.core.Precision precision) {
        gemm.precision(java.util.Objects.requireNonNull(precision, "precision"));
        return this;
    }

    public io.dyndit.core.Precision precision() {
        return gemm.precision();
    }

    /**
     * On CUDA devices (default on) a forward whose plan involves no host round trip (no token routing) is captured
     * once per workspace, plan and precision as a CUDA graph and replayed: no per-op launch gaps. Off: every op is
     * launched as issued (profiler ranges then show each stage; with graphs they are recorded at capture).
     */
    public DiTModel cudaGraphs(boolean on) {
        this.cudaGraphs = on;
        return this;
    }

    /** CUDA graphs captured so far (one per distinct workspace, plan and precision). */
    public int capturedGraphs() {
        return graphs.size();
    }

    /** model(x, t, y): x [N,C,I,I] row-major, t [N] original-scale timesteps, y [N] labels; returns [N,Co,I,I]. */
    public float[] forward(float[] x, float[] t, long[] y) {
        return forward(x, t, y, ForwardObserver.NONE);
    }

    public float[] forward(float[] x, float[] t, long[] y, ForwardObserver observer) {
        return forwardDetailed(x, t, y, observer).out();
    }

    /**
     * The forward with its decisions and cost. In a dynamic model, samples with different timesteps run as
     * separate sub-batches (width depends on t); otherwise, and in sampling, the whole batch runs at once.
     */
    public Result forwardDetailed(float[] x, float[] t, long[] y, ForwardObserver observer) {
        int n = t.length;
        validate(n, x, y);
        int per = config.inChannels() * config.inputSize() * config.inputSize();
        int outPer = config.outChannels() * config.inputSize() * config.inputSize();
        java.util.LinkedHashMap<Float, java.util.List<Integer>> groups = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            groups.computeIfAbsent(t[i], k -> new java.util.ArrayList<>()).add(i);
        }
        if (groups.size() == 1 || planner == null) { // a static plan does not depend on t
            return runGroup(x, t, y, observer, nativeGeometry);
        }
        float[] out = new float[n * outPer];
        DynamicTrace trace = planner == null ? null : new DynamicTrace(n, config.depth(), config.numHeads(), config.tokens());
        double macs = 0;
        double[] attn = new double[config.depth()], mlp = new double[config.depth()];
        for (java.util.List<Integer> g : groups.values()) {
            int[] which = g.stream().mapToInt(Integer::intValue).toArray();
            float[] gx = new float[which.length * per], gt = new float[which.length];
            long[] gy = new long[which.length];
            for (int j = 0; j < which.length; j++) {
                System.arraycopy(x, which[j] * per, gx, j * per, per);
                gt[j] = t[which[j]];
                gy[j] = y[which[j]];
            }
            Result r = runGroup(gx, gt, gy, observer, nativeGeometry);
            for (int j = 0; j < which.length; j++) {
                System.arraycopy(r.out(), j * outPer, out, which[j] * outPer, outPer);
            }
            if (trace != null) {
                trace.absorb(r.trace(), which);
            }
            macs += r.macs();
            for (int i = 0; i < attn.length; i++) {
                attn[i] += r.attnMacs()[i];
                mlp[i] += r.mlpMacs()[i];
            }
        }
        return new Result(out, trace, macs, attn, mlp);
    }

    /**
     * The whole forward at patch size {@code patchSize} (FlexiDiT): p is the checkpoint's own, a larger multiple
     * of p uses explicit flexi.q{q}.* tensors or weights derived once at first use. Static plan.
     */
    public float[] forwardAtPatch(float[] x, float[] t, long[] y, int patchSize) {
        validate(t.length, x, y);
        return runGroup(x, t, y, ForwardObserver.NONE, geometry(patchSize)).out();
    }

    /**
     * FlexiDiT's guided evaluation of n samples: the conditional branch at patch {@code condPatch}, the guidance
     * branch at {@code guidancePatch}. Equal patches: standard DiT guidance (null label for the guidance branch,
     * scale s). Conditional at the finer patch: weak guidance, both branches with the class label, one packed
     * network evaluation, eps = g + s_w (c - g) on channels 0..2 and the conditional branch elsewhere
     * ({@code weakScale} NaN: s_w = 1 - (1 - s) / 2.5). Returns [n, Co, I, I] and the MACs executed.
     */
    public Result forwardFlexiGuided(float[] x, float[] t, long[] labels, int condPatch, int guidancePatch, double scale,
            double weakScale) {
        int n = t.length;
        validate(n, x, labels);
        int outPer = config.outChannels() * config.inputSize() * config.inputSize();
        if (condPatch == guidancePatch) {
            if (!config.hasNullClass()) {
                throw new InvalidArgumentException("guidance needs a null class, and this model has none");
            }
            float[] x2 = new float[2 * x.length], t2 = new float[2 * n];
            long[] y2 = new long[2 * n];
            System.arraycopy(x, 0, x2, 0, x.length);
            System.arraycopy(x, 0, x2, x.length, x.length);
            for (int i = 0; i < n; i++) {
                t2[i] = t2[n + i] = t[i];
                y2[i] = labels[i];
                y2[n + i] = config.numClasses();
            }
            Result r = runGroup(x2, t2, y2, ForwardObserver.NONE, geometry(condPatch));
            Guidance.combineFirstChannels(r.out(), n, config.outChannels(), config.inputSize() * config.inputSize(),
                    Math.min(3, config.outChannels()), (float) scale);
            return new Result(java.util.Arrays.copyOf(r.out(), n * outPer), null, r.macs(), r.attnMacs(), r.mlpMacs());
        }
        for (int i = 1; i < n; i++) {
            if (t[i] != t[0]) {
                throw new InvalidArgumentException("a packed guided evaluation needs one timestep for the batch");
            }
        }
        double sw = Double.isNaN(weakScale) ? 1 - (1 - scale) / 2.5 : weakScale;
        PackedWorkspace ws = packedWorkspace(n, condPatch, guidancePatch);
        ws.x.copyFrom(x);
        float[] t2 = new float[2 * n];
        int[] y2 = new int[2 * n];
        for (int i = 0; i < n; i++) {
            t2[i] = t2[n + i] = t[i];
            y2[i] = y2[n + i] = (int) labels[i];
        }
        ws.t.copyFrom(t2);
        ws.y.copyFrom(y2);
        double macs = runPacked(ws);
        float[] cond = ws.outC.toFloatArray(), guide = ws.outU.toFloatArray();
        Guidance.weak(cond, guide, n, config.outChannels(), config.inputSize() * config.inputSize(),
                Math.min(3, config.outChannels()), (float) sw);
        return new Result(cond, null, macs, new double[0], new double[0]);
    }

    /** The model at one patch size (derived once, kept). */
    PatchGeometry geometry(int patchSize) {
        if (patchSize == config.patchSize()) {
            return nativeGeometry;
        }
        return flexiGeometries.computeIfAbsent(patchSize,
                q -> FlexiWeights.load(flexiSource, config, q, device, flexiScope));
    }

    Result runGroup(float[] x, float[] t, long[] y, ForwardObserver observer, PatchGeometry g) {
        ForwardWorkspace ws = workspace(t.length, g);
        ws.x.copyFrom(x);
        Result r = execute(ws, t, y, observer, true);
        return new Result(ws.out.toFloatArray(), r.trace(), r.macs(), r.attnMacs(), r.mlpMacs());
    }

    ForwardWorkspace workspace(int n, PatchGeometry g) {
        return workspaces.computeIfAbsent(n * 1024L + g.patch(), k -> new ForwardWorkspace(config, g, device, n));
    }

    /** The packed two-patch workspace of n samples (conditional branch at cp, guidance branch at gp >= cp). */
    PackedWorkspace packedWorkspace(int n, int cp, int gp) {
        if (cp > gp) {
            throw new InvalidArgumentException("the conditional branch (patch " + cp
                    + ") may not be coarser than the guidance branch (patch " + gp + ")");
        }
        PatchGeometry gc = geometry(cp), gu = geometry(gp);
        return packed.computeIfAbsent(((long) n * 1024 + cp) * 1024 + gp, k -> new PackedWorkspace(config, gc, gu, device, n));
    }

    /** Both branches of a packed workspace (inputs in place) in one evaluation; returns the MACs. */
    double runPacked(PackedWorkspace ws) {
        gemm.apply();
        return new PackedForward(config, weights).run(ws);
    }

    StepPlan fullPlan() {
        return fullPlan;
    }

    DeviceRows rows() {
        return rows;
    }

    /**
     * Runs the network on ws (x already in place) for t and y; the output stays in ws.out (Result.out is null).
     * Untraced, a DiffCR step reads nothing back to the host, so it can be a CUDA graph too.
     */
    Result execute(ForwardWorkspace ws, float[] t, long[] y, ForwardObserver observer, boolean traced) {
        int n = t.length;
        PatchGeometry g = ws.geometry;
        long wsKey = n * 1024L + g.patch();
        ws.t.copyFrom(t);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) y[i];
        }
        ws.y.copyFrom(labels);
        StepPlan plan = g == nativeGeometry ? planFor((long) t[0]) : fullPlan;
        DynamicTrace trace = planner == null || !traced ? null
                : new DynamicTrace(n, config.depth(), config.numHeads(), config.tokens());
        gemm.apply();
        if (cudaGraphs && device.isCuda() && observer == ForwardObserver.NONE && ForwardGraphs.hostFree(plan, traced)) {
            return graphs.run(device, pass, ws, wsKey, plan, gemm.precision(), trace);
        }
        double macs = pass.run(ws, plan, observer, trace);
        return new Result(null, trace, macs, pass.attnMacs.clone(), pass.mlpMacs.clone());
    }

    /**
     * forward_with_cfg: the first half of x is used for both halves (the second half is ignored), y holds
     * [labels; null labels], guidance uncond + s (cond - uncond) on output channels 0..2 only.
     */
    public float[] forwardWithCfg(float[] x, float[] t, long[] y, double scale) {
        return forwardWithCfgDetailed(x, t, y, scale).out();
    }

    public Result forwardWithCfgDetailed(float[] x, float[] t, long[] y, double scale) {
        int n2 = t.length;
        if (n2 % 2 != 0) {
            throw new InvalidArgumentException("forward_with_cfg needs an even batch ([cond; uncond]), got " + n2);
        }
        int per = x.length / Math.max(1, n2);
        float[] combined = x.clone();
        System.arraycopy(x, 0, combined, (n2 / 2) * per, (n2 / 2) * per);
        Result r = forwardDetailed(combined, t, y, ForwardObserver.NONE);
        Guidance.combineFirstChannels(r.out(), n2 / 2, config.outChannels(), config.inputSize() * config.inputSize(),
                Math.min(3, config.outChannels()), (float) scale);
        return r;
    }

    void validate(int n, float[] x, long[] y) {
        long per = (long) config.inChannels() * config.inputSize() * config.inputSize();
        if (n <= 0) {
            throw new InvalidArgumentException("batch is empty");
        }
        if (x.length != n * per) {
            throw new ShapeMismatchException("latent x has " + x.length + " values, expected " + n * per + " = [" + n + ","
                    + config.inChannels() + "," + config.inputSize() + "," + config.inputSize() + "]");
        }
        if (y.length != n) {
            throw new ShapeMismatchException("labels y has " + y.length + " entries, expected " + n + " (one per sample)");
        }
        for (int i = 0; i < n; i++) {
            if (y[i] < 0 || y[i] >= config.labelTableRows()) {
                throw new InvalidArgumentException("label y[" + i + "] = " + y[i] + " outside [0, " + config.labelTableRows()
                        + ")" + (config.hasNullClass() ? " (null class = " + config.numClasses() + ")" : " (no null class)"));
            }
        }
    }

    /** This model as the sampling loop's denoiser (its own plan every step: static, DyDiT or DiffCR). */
    public io.dyndit.sampling.Denoiser denoiser() {
        return denoiser(null);
    }

    /**
     * The denoiser with a FlexiDiT patch schedule on top (null: none). Each step asks the plan for the step's
     * branch patch sizes; steps at the native patch run the model's own plan. With guidance the sampler's
     * [z; z] batch is served from its first half (as forward_with_cfg does) and both halves get the guided
     * result; without guidance the conditional branch's patch is used.
     */
    public io.dyndit.sampling.Denoiser denoiser(FlexiSchedule schedule) {
        return new ModelDenoiser(this, schedule);
    }

    @Override
    public void close() {
        graphs.close();
        rows.close();
        for (ForwardWorkspace ws : workspaces.values()) {
            ws.close();
        }
        workspaces.clear();
        for (PackedWorkspace ws : packed.values()) {
            ws.close();
        }
        packed.clear();
        flexiScope.close();
        if (dydit != null) {
            dydit.close();
        }
        if (routers != null) {
            routers.close();
        }
        if (diffcr != null) {
            diffcr.close();
        }
        weights.close();
    }
}
