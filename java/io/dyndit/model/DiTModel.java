package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Ops;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.plan.StepPlan;
import io.dyndit.plan.StepPlanner;
import io.dyndit.core.ModelClosedException;
import io.dyndit.core.Tensor;
import io.dyndit.internal.ContextPool;
import io.dyndit.internal.Lifecycle;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * A DiT loaded once and called many times: the official forward (models.py) and forward_with_cfg, DyDiT, DiffCR
 * and FlexiDiT checkpoints included. Buffers are planned once per batch size and reused; close() frees all native
 * memory (what is dropped without close() is freed after garbage collection).
 *
 * <p>Thread-safety: safe to share. {@code forward*}, {@link #generate}, {@link #denoiser()} evaluations and
 * {@link #planFor} may be called from many threads at once on one model: each call runs in its own execution
 * context (workspaces, CUDA graphs, device buffers) leased from a bounded pool ({@link ModelOptions#maxConcurrency},
 * more callers wait), and returns exactly what the same call returns alone. The weights are shared read-only.
 * {@link #close()} waits for running calls to finish; calls after it throw {@link ModelClosedException}.
 * {@link #precision} and {@link #cudaGraphs} change the model for every later call.
 */
public final class DiTModel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.dyndit.model");

    private final DiTConfig config;
    private final DiTWeights weights;
    private final DyDiTRouters routers;   // null: not a DyDiT checkpoint
    private final DiffCRRouters diffcr;   // null: not a DiffCR checkpoint
    private final DyDiTPlanner dydit;     // null unless DyDiT runs dynamically
    private final StepPlanner planner;    // null: static (plain DiT, or --static)
    private final StepPlan fullPlan;
    private final Device device;
    private final PatchGeometry nativeGeometry;
    private final Map<Integer, PatchGeometry> flexiGeometries = new HashMap<>(); // guarded by itself
    private final TensorFile flexiSource; // embedder/de-embedder (+ flexi.* tensors) for deriving other patch sizes
    private final io.dyndit.core.Scope flexiScope = io.dyndit.core.Scope.open();
    private final GemmControl gemm;
    private volatile boolean cudaGraphs;
    private final AtomicInteger captured = new AtomicInteger();
    private final ContextPool<ExecutionContext> contexts;
    private final Lifecycle lifecycle = new Lifecycle("model");

    /**
     * Output of one forward: the model output, what a dynamic model decided, the MACs executed in total and per
     * block (attention incl. its projections, MLP incl. the token router), and what the static model would have
     * executed for the same evaluation.
     */
    public record Result(float[] out, DynamicTrace trace, double macs, double[] attnMacs, double[] mlpMacs,
            double staticMacs) {}

    private DiTModel(DiTConfig config, DiTWeights weights, DyDiTRouters routers, DiffCRRouters diffcr,
            ModelOptions options, TensorFile flexiSource) {
        this.config = config;
        this.flexiSource = flexiSource;
        this.nativeGeometry = new PatchGeometry(config.patchSize(), config.gridSize(), weights.patchW, weights.patchB,
                weights.posEmbed, weights.finalW, weights.finalB);
        this.weights = weights;
        this.routers = routers;
        this.diffcr = diffcr;
        this.device = options.device();
        this.gemm = new GemmControl(device);
        gemm.precision(options.precision());
        this.cudaGraphs = options.cudaGraphs();
        boolean useRouters = !options.staticModel();
        this.dydit = routers != null && useRouters ? new DyDiTPlanner(config, weights, routers, device, true, gemm)
                : null;
        this.planner = dydit != null ? dydit
                : diffcr != null && useRouters ? new DiffCRPlanner(diffcr, config.tokens()) : null;
        this.fullPlan = StepPlan.full(config.depth());
        this.contexts = new ContextPool<>(options.maxConcurrency(), () -> new ExecutionContext(config, device,
                new ForwardPass(config, weights, routers, diffcr, gemm), new ForwardGraphs(captured)));
    }

    /**
     * Loads a safetensors or PyTorch .pt checkpoint: config from JSON when given, else inferred from the shapes;
     * on {@code device}, with the defaults of {@link ModelOptions} otherwise.
     */
    public static DiTModel load(Path weightsFile, Path configJson, Device device) {
        return load(weightsFile, ModelOptions.builder().config(configJson).device(device).build());
    }

    /** Loads a safetensors or PyTorch .pt checkpoint as {@code options} say. */
    public static DiTModel load(Path weightsFile, ModelOptions options) {
        try (TensorFile f = TensorFiles.open(weightsFile)) {
            DiTConfig cfg = options.config() != null ? DiTConfig.fromJson(options.config()) : DiTConfig.infer(f);
            return load(f, cfg, options);
        }
    }

    public static DiTModel load(TensorFile file, DiTConfig config, Device device) {
        return load(file, config, ModelOptions.builder().device(device).build());
    }

    /** Copies the model's tensors of {@code file} to the device ({@code options.config()} is not read here). */
    public static DiTModel load(TensorFile file, DiTConfig config, ModelOptions options) {
        Device device = options.device();
        CheckpointKeys.requireAllUsed(file, config);
        DiTWeights w = DiTWeights.load(file, config, device);
        DyDiTRouters r = null;
        DiffCRRouters d = null;
        try {
            r = DyDiTRouters.loadIfPresent(file, config, device);
            d = DiffCRRouters.loadIfPresent(file, config, device);
            DiTModel m = new DiTModel(config, w, r, d, options, io.dyndit.io.MapTensorFile.copyOf(file,
                    n -> n.startsWith("flexi.") || n.startsWith("x_embedder.proj.") || n.startsWith("final_layer.linear.")));
            LOG.log(System.Logger.Level.DEBUG, () -> "loaded " + file.source() + ": depth " + config.depth() + ", hidden "
                    + config.hiddenSize() + ", patch " + config.patchSize() + (m.dydit != null ? ", DyDiT dynamic"
                    : m.planner != null ? ", DiffCR dynamic" : ", static") + " on " + device);
            return m;
        } catch (RuntimeException | Error e) {
            if (d != null) {
                d.close();
            }
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
        checkTimestep(modelTimestep, "timestep");
        return call(ctx -> planAt(modelTimestep));
    }

    private StepPlan planAt(long modelTimestep) {
        return planner == null ? fullPlan : planner.plan(0, modelTimestep); // width/token plans depend on t only
    }

    /**
     * The dynamic plan at patch geometry g (FlexiDiT x DyDiT/DiffCR): DyDiT's width and token routing do not depend on
     * the token count; DiffCR keeps its ratio of g's tokens (k = ceil(ratio T_g), at least 1).
     */
    private StepPlan planAt(long modelTimestep, PatchGeometry g) {
        if (g == nativeGeometry || planner == null) {
            return planAt(modelTimestep);
        }
        return planner instanceof DiffCRPlanner d ? d.plan(modelTimestep, g.tokens()) : planner.plan(0, modelTimestep);
    }

    public DiTConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /**
     * Arithmetic of the matrix products (default TF32, as the official sampler runs on CUDA); the routers' GEMVs
     * always run in FP32. On the CPU TF32 and FP32 compute fp32, and BF16 runs the linears in bf16 through oneDNN
     * (weights rounded once, fp32 accumulation; LayerNorm, attention, softmax and the sampler stay fp32); a CPU
     * without AVX512_BF16 or AMX refuses BF16 at the next evaluation ({@link io.dyndit.core.UnsupportedOnDeviceException}
     * naming its features).
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

    /** CUDA graphs captured so far (one per execution context, workspace, plan and precision). */
    public int capturedGraphs() {
        return captured.get();
    }

    /** Execution contexts created so far (at most the pool's capacity: the most callers that ran at once). */
    public int executionContexts() {
        return contexts.created();
    }

    /**
     * model(x, t, y): x [N,C,I,I] row-major, t [N] timesteps (int64, as the official sampler passes them; each in
     * [0, 2^24]), y [N] labels; returns [N,Co,I,I].
     */
    public float[] forward(float[] x, long[] t, long[] y) {
        return forwardDetailed(x, timesteps(t), y, ForwardObserver.NONE).out();
    }

    /** As {@link #forward(float[], long[], long[])} with float timesteps (finite, >= 0). */
    public float[] forward(float[] x, float[] t, long[] y) {
        return forward(x, t, y, ForwardObserver.NONE);
    }

    public float[] forward(float[] x, float[] t, long[] y, ForwardObserver observer) {
        return forwardDetailed(x, t, y, observer).out();
    }

    /** The forward reading x [N*C*I*I] from a buffer (position to limit) and writing [N*Co*I*I] into {@code out}. */
    public Result forward(FloatBuffer x, long[] t, long[] y, FloatBuffer out) {
        float[] xs = new float[x.remaining()];
        x.duplicate().get(xs);
        Result r = forwardDetailed(xs, timesteps(t), y, ForwardObserver.NONE);
        if (out.remaining() < r.out().length) {
            throw new ShapeMismatchException("output buffer has room for " + out.remaining() + " values, the forward "
                    + "returns " + r.out().length);
        }
        out.put(r.out());
        return r;
    }

    /**
     * The forward on a tensor: x [N,C,I,I] f32 on any device (copied to the model's device when elsewhere); returns
     * a new tensor [N,Co,I,I] on the model's device, which the caller owns (close it). With a CUDA model the data
     * stays on the device. Every sample runs the model's own plan (static, DyDiT or DiffCR).
     */
    public Tensor forward(Tensor x, long[] t, long[] y) {
        long[] s = x.shape();
        int n = t.length;
        long per = (long) config.inChannels() * config.inputSize() * config.inputSize();
        if (x.dtype() != io.dyndit.core.DType.F32 || s.length != 4 || s[0] != n || s[1] != config.inChannels()
                || s[2] != config.inputSize() || s[3] != config.inputSize()) {
            throw new ShapeMismatchException("latent x is " + x + ", expected F32 [" + n + "," + config.inChannels() + ","
                    + config.inputSize() + "," + config.inputSize() + "]");
        }
        float[] tf = timesteps(t);
        validate(n, null, y);
        for (int i = 1; i < n; i++) {
            if (planner != null && tf[i] != tf[0]) {
                return Tensor.of(device, forward(x.toFloatArray(), tf, y), n, config.outChannels(), config.inputSize(),
                        config.inputSize()); // mixed timesteps of a dynamic model run as sub-batches
            }
        }
        int outPer = config.outChannels() * config.inputSize() * config.inputSize();
        return call(ctx -> {
            ForwardWorkspace ws = ctx.workspace(n, nativeGeometry);
            try (Tensor onDevice = x.device().equals(device) ? null : x.to(device)) {
                ctx.rows.copy(onDevice != null ? onDevice : x, n, (int) per, DeviceRows.RowMap.ALL, ws.x);
            }
            execute(ctx, ws, tf, y, ForwardObserver.NONE, false);
            Tensor out = Tensor.empty(device, io.dyndit.core.DType.F32, n, config.outChannels(), config.inputSize(),
                    config.inputSize());
            try {
                ctx.rows.copy(ws.out, n, outPer, DeviceRows.RowMap.ALL, out);
                return out;
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
        });
    }

    /**
     * The forward with its decisions and cost. In a dynamic model, samples with different timesteps run as
     * separate sub-batches (width depends on t); otherwise, and in sampling, the whole batch runs at once.
     */
    public Result forwardDetailed(float[] x, float[] t, long[] y, ForwardObserver observer) {
        int n = t.length;
        validate(n, x, y);
        checkTimesteps(t);
        return call(ctx -> forwardIn(ctx, x, t, y, observer));
    }

    private Result forwardIn(ExecutionContext ctx, float[] x, float[] t, long[] y, ForwardObserver observer) {
        int n = t.length;
        int per = config.inChannels() * config.inputSize() * config.inputSize();
        int outPer = config.outChannels() * config.inputSize() * config.inputSize();
        java.util.LinkedHashMap<Float, java.util.List<Integer>> groups = new java.util.LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            groups.computeIfAbsent(t[i], k -> new java.util.ArrayList<>()).add(i);
        }
        if (groups.size() == 1 || planner == null) { // a static plan does not depend on t
            return runGroup(ctx, x, t, y, observer, nativeGeometry);
        }
        float[] out = new float[n * outPer];
        DynamicTrace trace = new DynamicTrace(n, config.depth(), config.numHeads(), config.tokens());
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
            Result r = runGroup(ctx, gx, gt, gy, observer, nativeGeometry);
            for (int j = 0; j < which.length; j++) {
                System.arraycopy(r.out(), j * outPer, out, which[j] * outPer, outPer);
            }
            trace.absorb(r.trace(), which);
            macs += r.macs();
            for (int i = 0; i < attn.length; i++) {
                attn[i] += r.attnMacs()[i];
                mlp[i] += r.mlpMacs()[i];
            }
        }
        return new Result(out, trace, macs, attn, mlp, staticMacs(n));
    }

    /** What the static model executes for n samples at the native patch size. */
    double staticMacs(int n) {
        return DiTMacs.total(config) * n;
    }

    /**
     * The whole forward at patch size {@code patchSize} (FlexiDiT): p is the checkpoint's own, a larger multiple
     * of p uses explicit flexi.q{q}.* tensors or weights derived once at first use. Static plan.
     */
    public float[] forwardAtPatch(float[] x, float[] t, long[] y, int patchSize) {
        validate(t.length, x, y);
        checkTimesteps(t);
        PatchGeometry g = geometry(patchSize);
        return call(ctx -> runGroup(ctx, x, t, y, ForwardObserver.NONE, g)).out();
    }

    /**
     * FlexiDiT's guided evaluation of n samples: the conditional branch at patch {@code condPatch}, the guidance
     * branch at {@code guidancePatch}. Equal patches: standard DiT guidance (null label for the guidance branch,
     * scale s). Conditional at the finer patch: weak guidance, both branches with the class label, one packed
     * network evaluation, eps = g + s_w (c - g) on channels 0..2 and the conditional branch elsewhere
     * ({@code weakScale} NaN: s_w = 1 - (1 - s) / 2.5). A dynamic model (DyDiT, DiffCR) evaluates the two branches
     * separately instead, each under its own dynamic plan at its patch size. Returns [n, Co, I, I] and the MACs
     * executed.
     */
    public Result forwardFlexiGuided(float[] x, float[] t, long[] labels, int condPatch, int guidancePatch, double scale,
            double weakScale) {
        return forwardFlexiGuided(x, t, labels, condPatch, guidancePatch, scale, weakScale, null);
    }

    /** As forwardFlexiGuided, with the generation's cache (null: none): a cache also splits the branches. */
    Result forwardFlexiGuided(float[] x, float[] t, long[] labels, int condPatch, int guidancePatch, double scale,
            double weakScale, CacheSpec cache) {
        int n = t.length;
        validate(n, x, labels);
        checkTimesteps(t);
        checkScale(scale, "guidance scale");
        if (!Double.isNaN(weakScale)) {
            checkScale(weakScale, "weak guidance scale");
        }
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
            PatchGeometry g = geometry(condPatch);
            Result r = call(ctx -> runGroup(ctx, x2, t2, y2, ForwardObserver.NONE, g));
            Guidance.combineFirstChannels(r.out(), n, config.outChannels(), config.inputSize() * config.inputSize(),
                    Math.min(3, config.outChannels()), (float) scale);
            return new Result(java.util.Arrays.copyOf(r.out(), n * outPer), null, r.macs(), r.attnMacs(), r.mlpMacs(),
                    staticMacs(2 * n));
        }
        for (int i = 1; i < n; i++) {
            if (t[i] != t[0]) {
                throw new InvalidArgumentException("a packed guided evaluation needs one timestep for the batch");
            }
        }
        double sw = Double.isNaN(weakScale) ? 1 - (1 - scale) / 2.5 : weakScale;
        PatchGeometry gc = packedCond(condPatch, guidancePatch), gu = geometry(guidancePatch);
        if (splitsWeakGuidance(cache)) {
            return call(ctx -> {
                Result rc = runGroup(ctx, x, t, labels, ForwardObserver.NONE, gc, cache);
                Result ru = runGroup(ctx, x, t, labels, ForwardObserver.NONE, gu, cache); // weak: the class label too
                float[] cond = rc.out();
                Guidance.weak(cond, ru.out(), n, config.outChannels(), config.inputSize() * config.inputSize(),
                        Math.min(3, config.outChannels()), (float) sw);
                return sum(cond, rc, ru, staticMacs(2 * n));
            });
        }
        return call(ctx -> {
            PackedWorkspace ws = ctx.packedWorkspace(n, gc, gu);
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
            return new Result(cond, null, macs, new double[0], new double[0], staticMacs(2 * n));
        });
    }

    /**
     * Whether a weak-guidance evaluation runs its two branches as separate forwards (each with its own dynamic plan
     * and cache) rather than packed into one static evaluation: for dynamic models and with a cache.
     */
    boolean splitsWeakGuidance(CacheSpec cache) {
        return planner != null || cache != null && cache.kind() != CacheSpec.Kind.NONE;
    }

    /** Two branches' results as one: the given output, summed MACs (in total and per block). */
    static Result sum(float[] out, Result a, Result b, double staticMacs) {
        double[] attn = a.attnMacs().clone(), mlp = a.mlpMacs().clone();
        for (int i = 0; i < attn.length; i++) {
            attn[i] += b.attnMacs()[i];
            mlp[i] += b.mlpMacs()[i];
        }
        return new Result(out, null, a.macs() + b.macs(), attn, mlp, staticMacs);
    }

    /** The model at one patch size (derived once, kept, shared by every caller). */
    PatchGeometry geometry(int patchSize) {
        if (patchSize == config.patchSize()) {
            return nativeGeometry;
        }
        synchronized (flexiGeometries) {
            if (lifecycle.isClosed()) {
                throw new ModelClosedException("model is closed");
            }
            return flexiGeometries.computeIfAbsent(patchSize,
                    q -> FlexiWeights.load(flexiSource, config, q, device, flexiScope));
        }
    }

    /** The conditional branch's geometry of a packed evaluation (it may not be coarser than the guidance branch). */
    PatchGeometry packedCond(int cp, int gp) {
        if (cp > gp) {
            throw new InvalidArgumentException("the conditional branch (patch " + cp
                    + ") may not be coarser than the guidance branch (patch " + gp + ")");
        }
        return geometry(cp);
    }

    Result runGroup(ExecutionContext ctx, float[] x, float[] t, long[] y, ForwardObserver observer, PatchGeometry g) {
        return runGroup(ctx, x, t, y, observer, g, null);
    }

    Result runGroup(ExecutionContext ctx, float[] x, float[] t, long[] y, ForwardObserver observer, PatchGeometry g,
            CacheSpec cache) {
        ForwardWorkspace ws = ctx.workspace(t.length, g);
        ws.x.copyFrom(x);
        Result r = execute(ctx, ws, t, y, observer, true, cache);
        return new Result(ws.out.toFloatArray(), r.trace(), r.macs(), r.attnMacs(), r.mlpMacs(), r.staticMacs());
    }

    /** Both branches of a packed workspace (inputs in place) in one evaluation; returns the MACs. */
    double runPacked(PackedWorkspace ws) {
        gemm.apply();
        return new PackedForward(config, weights).run(ws);
    }

    StepPlan fullPlan() {
        return fullPlan;
    }

    /**
     * Runs the network on ws (x already in place) for t and y; the output stays in ws.out (Result.out is null).
     * Untraced, a DiffCR step reads nothing back to the host, so it can be a CUDA graph too.
     */
    Result execute(ExecutionContext ctx, ForwardWorkspace ws, float[] t, long[] y, ForwardObserver observer,
            boolean traced) {
        return execute(ctx, ws, t, y, observer, traced, null);
    }

    /** As execute, with the generation's cache of {@code cacheSpec} (null: none; a cache is never a CUDA graph). */
    Result execute(ExecutionContext ctx, ForwardWorkspace ws, float[] t, long[] y, ForwardObserver observer,
            boolean traced, CacheSpec cacheSpec) {
        int n = t.length;
        PatchGeometry g = ws.geometry;
        long wsKey = n * 1024L + g.patch();
        ws.t.copyFrom(t);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) y[i];
        }
        ws.y.copyFrom(labels);
        StepPlan plan = planAt((long) t[0], g);
        DynamicTrace trace = planner == null || !traced ? null
                : new DynamicTrace(n, config.depth(), config.numHeads(), g.tokens());
        gemm.apply();
        double staticMacs = staticMacs(n);
        ForwardCache cache = ctx.cache(cacheSpec, ws);
        ctx.prepareConditioning(ws, t, y, gemm.rowInvariantConditioning(), weights);
        if (cache == null && cudaGraphs && device.isCuda() && observer == ForwardObserver.NONE
                && ForwardGraphs.hostFree(plan, traced)) {
            Result r = ctx.graphs.run(device, ctx.pass, ws, wsKey, plan, gemm.precision(), trace);
            return new Result(null, r.trace(), r.macs(), r.attnMacs(), r.mlpMacs(), staticMacs);
        }
        double macs = ctx.pass.run(ws, plan, observer, trace, cache);
        return new Result(null, trace, macs, ctx.pass.attnMacs.clone(), ctx.pass.mlpMacs.clone(), staticMacs);
    }

    /**
     * forward_with_cfg: the first half of x is used for both halves (the second half is ignored), y holds
     * [labels; null labels], guidance uncond + s (cond - uncond) on output channels 0..2 only.
     */
    public float[] forwardWithCfg(float[] x, float[] t, long[] y, double scale) {
        return forwardWithCfgDetailed(x, t, y, scale).out();
    }

    public float[] forwardWithCfg(float[] x, long[] t, long[] y, double scale) {
        return forwardWithCfgDetailed(x, timesteps(t), y, scale).out();
    }

    public Result forwardWithCfgDetailed(float[] x, float[] t, long[] y, double scale) {
        int n2 = t.length;
        if (n2 % 2 != 0) {
            throw new InvalidArgumentException("forward_with_cfg needs an even batch ([cond; uncond]), got " + n2);
        }
        checkScale(scale, "guidance scale");
        int per = x.length / Math.max(1, n2);
        float[] combined = x.clone();
        System.arraycopy(x, 0, combined, (n2 / 2) * per, (n2 / 2) * per);
        Result r = forwardDetailed(combined, t, y, ForwardObserver.NONE);
        Guidance.combineFirstChannels(r.out(), n2 / 2, config.outChannels(), config.inputSize() * config.inputSize(),
                Math.min(3, config.outChannels()), (float) scale);
        return r;
    }

    /** Generates the request's samples with this model's own plan each step (the official sampling loop). */
    public GenerationResult generate(GenerationRequest request) {
        return new DiffusionSampler(denoiser()).generate(request);
    }

    /**
     * Generates with the schedule of training-free levers that spends {@code budget} of the run's static compute
     * (within 2% below it; {@link BudgetPlanner}); a budget below what the levers reach is refused, naming the minimum.
     */
    public GenerationResult generate(GenerationRequest request, double budget) {
        BudgetPlanner.Plan plan = budgetPlan(request.sampler(), request.steps(), budget);
        return new DiffusionSampler(denoiser(plan.flexi(), plan.cache())).generate(request);
    }

    /**
     * The budget plan for {@code steps} steps of {@code sampler}, costed with this model's own plan at each step's
     * timestep (DyDiT widths, DiffCR's k; static models: the static forward).
     */
    public BudgetPlanner.Plan budgetPlan(io.dyndit.sampling.SamplerType sampler, int steps, double budget) {
        if (planner == null) {
            return BudgetPlanner.plan(config, steps, budget);
        }
        long[] ts = DiffusionSampler.modelTimesteps(sampler, steps);
        StepPlan[][] plans = new StepPlan[steps][2]; // native, coarse
        for (int s = 0; s < steps; s++) {
            long t = ts[s];
            plans[s][0] = call(ctx -> planAt(t));
            int coarseTokens = (int) Math.pow(config.inputSize() / (2.0 * config.patchSize()), 2);
            plans[s][1] = planner instanceof DiffCRPlanner d ? d.plan(t, Math.max(1, coarseTokens)) : plans[s][0];
        }
        int p = config.patchSize();
        return BudgetPlanner.plan(config, steps, budget, new BudgetPlanner.StepCosts() {
            @Override
            public double full(int step, int patch) {
                return PlanMacs.full(config, patch, plans[step][patch == p ? 0 : 1]);
            }

            @Override
            public double cached(int step, int patch) {
                return PlanMacs.cached(config, patch, plans[step][patch == p ? 0 : 1]);
            }

            @Override
            public String levers(int step, int patch) {
                return describeLevers(plans[step][patch == p ? 0 : 1], patch);
            }
        });
    }

    /** "width W, tokens F" of a plan at a patch size: mean kept fraction of heads+groups, and of tokens. */
    private String describeLevers(StepPlan plan, int patch) {
        double width = 0, tokens = 0;
        boolean routed = false;
        double t = Math.pow((double) config.inputSize() / patch, 2);
        for (int i = 0; i < config.depth(); i++) {
            io.dyndit.plan.LayerPlan lp = plan.layer(i);
            if (lp.routing() == io.dyndit.plan.LayerPlan.TokenRouting.TOP_K) {
                width += 1;
                tokens += Math.min(1, lp.topK() / t);
            } else {
                width += 0.5 * (lp.headCount(config.numHeads()) + lp.groupCount(config.numHeads())) / config.numHeads();
                tokens += 1;
                routed |= lp.routeTokens();
            }
        }
        return String.format(java.util.Locale.ROOT, "width %.2f, tokens %s", width / config.depth(),
                routed ? "routed (<= 1.0)" : String.format(java.util.Locale.ROOT, "%.2f", tokens / config.depth()));
    }

    /** As {@link #generate(GenerationRequest)} with a FlexiDiT patch schedule on top. */
    public GenerationResult generate(GenerationRequest request, FlexiSchedule schedule) {
        return new DiffusionSampler(denoiser(schedule)).generate(request);
    }

    void validate(int n, float[] x, long[] y) {
        long per = (long) config.inChannels() * config.inputSize() * config.inputSize();
        if (n <= 0) {
            throw new InvalidArgumentException("batch is empty");
        }
        if (x != null && x.length != n * per) {
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

    /** Timesteps the float32 embedding holds exactly (the official sampler's int64 values are far below). */
    private static final long MAX_TIMESTEP = 1L << 24;

    private static float[] timesteps(long[] t) {
        float[] f = new float[t.length];
        for (int i = 0; i < t.length; i++) {
            checkTimestep(t[i], "timestep t[" + i + "]");
            f[i] = t[i];
        }
        return f;
    }

    private static void checkTimestep(long t, String what) {
        if (t < 0 || t > MAX_TIMESTEP) {
            throw new InvalidArgumentException(what + " = " + t + " outside [0, " + MAX_TIMESTEP + "]");
        }
    }

    private static void checkTimesteps(float[] t) {
        for (int i = 0; i < t.length; i++) {
            if (!(t[i] >= 0 && t[i] <= MAX_TIMESTEP)) { // also NaN
                throw new InvalidArgumentException("timestep t[" + i + "] = " + t[i] + " outside [0, " + MAX_TIMESTEP + "]");
            }
        }
    }

    private static void checkScale(double s, String what) {
        if (!Double.isFinite(s)) {
            throw new InvalidArgumentException(what + " must be finite, got " + s);
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
     * result; without guidance the conditional branch's patch is used. Safe to share like the model.
     */
    public io.dyndit.sampling.Denoiser denoiser(FlexiSchedule schedule) {
        return new ModelDenoiser(this, schedule, CacheSpec.NONE);
    }

    /**
     * The denoiser with training-free caching across its generation's steps ({@link CacheSpec}) and an optional
     * FlexiDiT schedule (null: none). step:0 and block:1 are bit for bit the uncached denoiser.
     */
    public io.dyndit.sampling.Denoiser denoiser(FlexiSchedule schedule, CacheSpec cache) {
        return new ModelDenoiser(this, schedule, java.util.Objects.requireNonNull(cache, "cache"));
    }

    /** Runs body with an execution context of this thread's (leased; the model stays open meanwhile). */
    <T> T call(Function<ExecutionContext, T> body) {
        return lifecycle.whileOpen(() -> {
            try (ContextPool<ExecutionContext>.Lease l = contexts.acquire()) {
                return body.apply(l.context());
            }
        });
    }

    /**
     * Keeps one execution context for this thread until closed (a generation's steps, whose device outputs live in
     * the context's workspace until the next step). The model may still be closed meanwhile: later calls then fail.
     */
    io.dyndit.sampling.Denoiser.Reservation reserve() {
        return reserve(null);
    }

    /** As reserve(), for a generation that evaluates these model timesteps in order (null: not announced). */
    io.dyndit.sampling.Denoiser.Reservation reserve(long[] modelTimesteps) {
        return lifecycle.whileOpen(() -> {
            ContextPool<ExecutionContext>.Lease l = contexts.acquire();
            l.context().resetCaches();
            l.context().upcoming(modelTimesteps);
            return () -> {
                l.context().upcoming(null);
                l.close();
            };
        });
    }

    /** Whether close() was called. */
    public boolean isClosed() {
        return lifecycle.isClosed();
    }

    /**
     * Frees the model's native memory, after the calls running on other threads have finished; idempotent. Calls
     * after it throw {@link ModelClosedException}. May not be called from inside this model's own forward (an
     * observer): that throws IllegalStateException.
     */
    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        contexts.close();
        synchronized (flexiGeometries) {
            flexiScope.close();
            flexiGeometries.clear();
        }
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
