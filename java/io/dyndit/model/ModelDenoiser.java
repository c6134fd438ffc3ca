package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Ops;
import io.dyndit.core.Tensor;
import io.dyndit.plan.StepPlan;
import io.dyndit.sampling.DeviceDenoiser;
import java.util.Arrays;

/**
 * A DiT model as the sampling loop's denoiser, optionally with a FlexiDiT patch schedule: each step asks the schedule
 * for its branch patch sizes; steps at the native patch run the model's own plan (static, DyDiT or DiffCR). With
 * guidance the sampler's [z; z] batch is served from its first half (as forward_with_cfg) and both halves get the
 * guided result. On CUDA devices it takes device latents and returns device outputs (the loop stays there).
 * Thread-safe like the model: its state is the model's per-thread execution context.
 */
final class ModelDenoiser implements DeviceDenoiser {
    private final DiTModel m;
    private final DiTConfig config;
    private final FlexiSchedule schedule; // null: none
    private final CacheSpec cache;

    ModelDenoiser(DiTModel model, FlexiSchedule schedule, CacheSpec cache) {
        this.cache = cache;
        this.m = model;
        this.config = model.config();
        this.schedule = schedule;
    }

    private StepPlan plan(int step) {
        return schedule == null ? m.fullPlan() : schedule.apply(m.fullPlan(), step, config.patchSize());
    }

    @Override
    public Reservation reserve() {
        return m.reserve();
    }

    @Override
    public Reservation reserve(long[] modelTimesteps) {
        return m.reserve(modelTimesteps);
    }

    @Override
    public Evaluation evaluate(float[] x, long[] y, int step, long modelTimestep, double cfgScale) {
        CacheSpec cache = step < this.cache.fromStep() ? CacheSpec.NONE : this.cache;
        float[] t = new float[y.length];
        Arrays.fill(t, modelTimestep);
        int p = config.patchSize();
        StepPlan plan = plan(step);
        if (cache.kind() == CacheSpec.Kind.NONE && (plan.condPatch() == 0
                || (plan.condPatch() == p && plan.guidancePatch() == p))) {
            DiTModel.Result r = cfgScale == 1.0 ? m.forwardDetailed(x, t, y, ForwardObserver.NONE)
                    : m.forwardWithCfgDetailed(x, t, y, cfgScale);
            return new Evaluation(r.out(), r.macs(), r.attnMacs(), r.mlpMacs());
        }
        boolean onePatch = plan.condPatch() == 0 || plan.condPatch() == plan.guidancePatch();
        if (cfgScale == 1.0 || cache.kind() != CacheSpec.Kind.NONE && onePatch) {
            m.validate(y.length, x, y);
            PatchGeometry g = m.geometry(plan.condPatch() == 0 ? p : plan.condPatch());
            float[] in = x;
            if (cfgScale != 1.0) { // forward_with_cfg: the first half serves both halves
                if (y.length % 2 != 0) {
                    throw new InvalidArgumentException("forward_with_cfg needs an even batch ([cond; uncond]), got "
                            + y.length);
                }
                in = x.clone();
                System.arraycopy(x, 0, in, x.length / 2, x.length / 2);
            }
            float[] input = in;
            DiTModel.Result r = m.call(ctx -> m.runGroup(ctx, input, t, y, ForwardObserver.NONE, g, cache));
            if (cfgScale != 1.0) {
                Guidance.combineFirstChannels(r.out(), y.length / 2, config.outChannels(),
                        config.inputSize() * config.inputSize(), Math.min(3, config.outChannels()), (float) cfgScale);
                return new Evaluation(r.out(), r.macs(), r.attnMacs(), r.mlpMacs());
            }
            return new Evaluation(r.out(), r.macs());
        }
        int n = y.length / 2, per = x.length / y.length;
        DiTModel.Result r = m.forwardFlexiGuided(Arrays.copyOf(x, n * per), Arrays.copyOf(t, n), Arrays.copyOf(y, n),
                plan.condPatch(), plan.guidancePatch(), cfgScale, schedule.weakScale(), cache);
        float[] out = new float[2 * r.out().length];
        System.arraycopy(r.out(), 0, out, 0, r.out().length);
        System.arraycopy(r.out(), 0, out, r.out().length, r.out().length);
        return r.attnMacs().length == 0 ? new Evaluation(out, r.macs())
                : new Evaluation(out, r.macs(), r.attnMacs(), r.mlpMacs());
    }

    @Override
    public boolean keepsLatentsOnDevice() {
        return m.device().isCuda();
    }

    @Override
    public Device device() {
        return m.device();
    }

    /**
     * The same evaluation with x [N,C,I,I] on the device: inputs are copied into the workspace there ([x_first_half;
     * x_first_half] with guidance), guidance combines run there, and the output stays there until the next call.
     */
    @Override
    public DeviceEvaluation evaluate(Tensor x, long[] y, int step, long modelTimestep, double cfgScale) {
        CacheSpec cache = step < this.cache.fromStep() ? CacheSpec.NONE : this.cache;
        int n = y.length;
        boolean guided = cfgScale != 1.0;
        if (guided && n % 2 != 0) {
            throw new InvalidArgumentException("forward_with_cfg needs an even batch ([cond; uncond]), got " + n);
        }
        StepPlan plan = plan(step);
        if (guided && plan.condPatch() != 0 && plan.condPatch() != plan.guidancePatch()) {
            return m.splitsWeakGuidance(cache) ? evaluateSplit(x, y, modelTimestep, cfgScale, plan, cache)
                    : evaluatePacked(x, y, modelTimestep, cfgScale, plan);
        }
        int p = config.patchSize(), per = config.inChannels() * config.inputSize() * config.inputSize();
        PatchGeometry g = m.geometry(plan.condPatch() == 0 ? p : plan.condPatch());
        return m.call(ctx -> {
            ForwardWorkspace ws = ctx.workspace(n, g);
            ctx.rows.copy(x, n, per, guided ? DeviceRows.RowMap.HALF_TWICE : DeviceRows.RowMap.ALL, ws.x);
            float[] t = new float[n];
            Arrays.fill(t, modelTimestep);
            DiTModel.Result r = m.execute(ctx, ws, t, y, ForwardObserver.NONE, false, cache);
            if (guided) {
                Ops.cfgCombine(ws.out, Math.min(3, config.outChannels()), (float) cfgScale);
            }
            return new DeviceEvaluation(ws.out, r.macs(), r.attnMacs(), r.mlpMacs());
        });
    }

    /**
     * Weak guidance on device latents [2n,...] as two forwards (dynamic models, caches): the conditional branch at its
     * patch and the guidance branch at its own, both from the first half with the class labels; output [2n,Co,I,I].
     */
    private DeviceEvaluation evaluateSplit(Tensor x, long[] y, long modelTimestep, double cfgScale, StepPlan plan,
            CacheSpec cache) {
        int n2 = y.length, n = n2 / 2, per = config.inChannels() * config.inputSize() * config.inputSize();
        PatchGeometry gc = m.packedCond(plan.condPatch(), plan.guidancePatch()), gu = m.geometry(plan.guidancePatch());
        float[] t = new float[n];
        Arrays.fill(t, modelTimestep);
        long[] labels = Arrays.copyOf(y, n);
        return m.call(ctx -> {
            ForwardWorkspace wc = ctx.workspace(n, gc), wu = ctx.workspace(n, gu);
            ctx.rows.copy(x, n2, per, DeviceRows.RowMap.FIRST_HALF, wc.x);
            ctx.rows.copy(x, n2, per, DeviceRows.RowMap.FIRST_HALF, wu.x);
            DiTModel.Result rc = m.execute(ctx, wc, t, labels, ForwardObserver.NONE, false, cache);
            DiTModel.Result ru = m.execute(ctx, wu, t, labels, ForwardObserver.NONE, false, cache);
            double sw = Double.isNaN(schedule.weakScale()) ? 1 - (1 - cfgScale) / 2.5 : schedule.weakScale();
            Ops.weakGuidance(wc.out, wu.out, Math.min(3, config.outChannels()), (float) sw);
            int side = config.inputSize(), outPer = config.outChannels() * side * side;
            Tensor out = ctx.rows.buffer(n2, config.outChannels(), side, side);
            ctx.rows.copy(wc.out, n, outPer, DeviceRows.RowMap.TWICE, out); // both halves get the guided output
            DiTModel.Result r = DiTModel.sum(null, rc, ru, 0);
            return new DeviceEvaluation(out, r.macs(), r.attnMacs(), r.mlpMacs());
        });
    }

    /** forwardFlexiGuided's packed weak-guidance evaluation on device latents [2n,...]; output [2n,Co,I,I]. */
    private DeviceEvaluation evaluatePacked(Tensor x, long[] y, long modelTimestep, double cfgScale, StepPlan plan) {
        int n2 = y.length, n = n2 / 2, per = config.inChannels() * config.inputSize() * config.inputSize();
        PatchGeometry gc = m.packedCond(plan.condPatch(), plan.guidancePatch()), gu = m.geometry(plan.guidancePatch());
        return m.call(ctx -> evaluatePacked(ctx, x, y, modelTimestep, cfgScale, gc, gu, n, per));
    }

    private DeviceEvaluation evaluatePacked(ExecutionContext ctx, Tensor x, long[] y, long modelTimestep, double cfgScale,
            PatchGeometry gc, PatchGeometry gu, int n, int per) {
        int n2 = 2 * n;
        PackedWorkspace ws = ctx.packedWorkspace(n, gc, gu);
        ctx.rows.copy(x, n2, per, DeviceRows.RowMap.FIRST_HALF, ws.x);
        float[] t2 = new float[2 * n];
        int[] y2 = new int[2 * n];
        for (int i = 0; i < n; i++) {
            t2[i] = t2[n + i] = modelTimestep;
            y2[i] = y2[n + i] = (int) y[i]; // weak guidance: both branches with the class label
        }
        ws.t.copyFrom(t2);
        ws.y.copyFrom(y2);
        double macs = m.runPacked(ws);
        double sw = Double.isNaN(schedule.weakScale()) ? 1 - (1 - cfgScale) / 2.5 : schedule.weakScale();
        Ops.weakGuidance(ws.outC, ws.outU, Math.min(3, config.outChannels()), (float) sw);
        int side = config.inputSize(), outPer = config.outChannels() * side * side;
        Tensor out = ctx.rows.buffer(n2, config.outChannels(), side, side);
        ctx.rows.copy(ws.outC, n, outPer, DeviceRows.RowMap.TWICE, out); // both halves get the guided output
        return new DeviceEvaluation(out, macs, new double[0], new double[0]);
    }

    @Override
    public int inChannels() {
        return config.inChannels();
    }

    @Override
    public int inputSize() {
        return config.inputSize();
    }

    @Override
    public int outChannels() {
        return config.outChannels();
    }

    @Override
    public long nullClass() {
        return config.hasNullClass() ? config.numClasses() : -1;
    }

    @Override
    public double staticMacsPerSample() {
        return DiTMacs.total(config);
    }
}
