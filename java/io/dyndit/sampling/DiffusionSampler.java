package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ShapeMismatchException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The official sampling loop (p_sample_loop / ddim_sample_loop of DiT's diffusion package, as sample.py runs it) over
 * any {@link Denoiser}: x = z; for i = S-1 … 0: the model receives timestep_map[i]; x = update(x, model output).
 * With guidance the loop carries [z; z] with labels [labels; null × n] and the denoiser runs forward_with_cfg; the
 * result is the first half. Without guidance (scale 1) it carries the n samples and the plain forward.
 *
 * <p>Thread-safety: as safe as its denoiser (a model's denoiser: safe); each generate() call has its own state.
 */
public final class DiffusionSampler {
    private final Denoiser denoiser;

    public DiffusionSampler(Denoiser denoiser) {
        this.denoiser = denoiser;
    }

    /** The model timestep each loop step k = 0..steps-1 of {@code sampler} evaluates (what the denoiser is asked). */
    public static long[] modelTimesteps(SamplerType sampler, int steps) {
        if (steps < 1) {
            throw new InvalidArgumentException("steps must be >= 1, got " + steps);
        }
        long[] t = new long[steps];
        if (sampler.dpmOrder() > 0) {
            DpmSolverSchedule d = new DpmSolverSchedule(steps, sampler.dpmOrder());
            for (int k = 0; k < steps; k++) {
                t[k] = d.timestep(k);
            }
        } else {
            DiffusionSchedule d = DiffusionSchedule.respaced(steps);
            for (int k = 0; k < steps; k++) {
                t[k] = d.timestep(steps - 1 - k);
            }
        }
        return t;
    }

    public GenerationResult generate(GenerationRequest r) {
        try (Denoiser.Reservation held = denoiser.reserve(modelTimesteps(r.sampler(), r.steps()))) {
            return run(r);
        }
    }

    private GenerationResult run(GenerationRequest r) {
        int n = r.sampleCount();
        boolean guided = r.guided();
        int batch = guided ? 2 * n : n;
        int c = denoiser.inChannels(), size = denoiser.inputSize(), co = denoiser.outChannels();
        VarianceType variance = VarianceType.forChannels(c, co);
        long[] y = batchLabels(r.labels(), guided);
        BatchLayout layout = new BatchLayout(batch, c, co, size * size);
        int perSample = c * size * size;
        long values = (long) Math.max(batch, co / Math.max(1, c) * (long) batch) * perSample;
        if (values > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException(n + " samples" + (guided ? " with guidance (" + batch + " in the batch)" : "")
                    + " need " + values + " latent values per step, more than one Java array holds; generate them in "
                    + "smaller requests");
        }
        boolean noisy = r.sampler().addsNoise(r.eta());
        int steps = r.steps();
        // steps 0..S-2 add noise (the last, i = 0, never does)
        r.noise().check(n, batch, c, size, noisy ? steps - 1 : 0);
        boolean dpm = r.sampler().dpmOrder() > 0;
        DiffusionSchedule schedule = dpm ? null : DiffusionSchedule.respaced(steps);
        DpmSolverSchedule dpmSchedule = dpm ? new DpmSolverSchedule(steps, r.sampler().dpmOrder()) : null;

        float[] x = r.noise().initialLatents(n, batch, perSample);
        List<StepStats> stats = new ArrayList<>(steps);
        long start = System.nanoTime();
        if (denoiser instanceof DeviceDenoiser d && d.keepsLatentsOnDevice()) {
            x = new DeviceLoop(d, r, schedule, dpmSchedule, variance, y, new long[] {batch, c, size, size}, co, noisy).run(x, stats,
                    start);
            return result(r, x, n, perSample, c, size, stats, start, batch, steps);
        }
        // DPM-Solver++ keeps the data predictions of the last steps: m0 of this step, m1 and m2 before it
        float[] m1 = dpm ? new float[x.length] : null, m2 = dpm ? new float[x.length] : null;
        for (int k = 0; k < steps; k++) {
            if (r.cancellation().isCancelled() || Thread.currentThread().isInterrupted()) {
                throw new GenerationCancelledException("generation cancelled after " + k + " of " + steps + " steps", k);
            }
            long stepStart = System.nanoTime();
            int i = dpm ? k : steps - 1 - k;
            long t = dpm ? dpmSchedule.timestep(k) : schedule.timestep(i);
            io.dyndit.core.Ranges.push("sampler step");
            Denoiser.Evaluation ev;
            try {
                ev = denoiser.evaluate(x, y, k, t, r.cfgScale());
            } finally {
                io.dyndit.core.Ranges.pop();
            }
            float[] out = ev.output();
            if (out.length != layout.outputValues()) {
                throw new ShapeMismatchException("the model returned " + out.length + " values at step " + k
                        + ", expected [" + batch + "," + co + "," + size + "," + size + "]");
            }
            float[] noise = noisy && i != 0 ? r.noise().stepNoise(k, n, batch, perSample) : null;
            float[] predX0 = new float[x.length];
            float[] next = new float[x.length];
            io.dyndit.core.Ranges.push("sampler update");
            if (dpm) {
                DpmSolverUpdate.apply(dpmSchedule, k, layout, x, out, m1, m2, predX0, next);
                m2 = m1;
                m1 = predX0; // a fresh array every step
            } else if (r.sampler() == SamplerType.DDPM) {
                DdpmUpdate.apply(schedule, i, variance, layout, x, out, noise, predX0, next);
            } else {
                DdimUpdate.apply(schedule, i, r.eta(), layout, x, out, noise, predX0, next);
            }
            io.dyndit.core.Ranges.pop();
            long now = System.nanoTime();
            StepStats s = new StepStats(k, i, t, (now - stepStart) / 1e9, ev.macs(), ev.attnMacs(), ev.mlpMacs());
            stats.add(s);
            r.inspector().onStep(new StepTrace(k, i, t, x, out, predX0, noise, next));
            x = next;
            r.progress().onStep(s, steps, (now - start) / 1e9);
        }
        return result(r, x, n, perSample, c, size, stats, start, batch, steps);
    }

    private GenerationResult result(GenerationRequest r, float[] x, int n, int perSample, int c, int size,
            List<StepStats> stats, long start, int batch, int steps) {
        double seconds = (System.nanoTime() - start) / 1e9;
        double staticMacs = denoiser.staticMacsPerSample() * batch * steps;
        return new GenerationResult(Arrays.copyOf(x, n * perSample), new long[] {n, c, size, size}, stats, seconds,
                staticMacs);
    }

    /** [labels] or, with guidance, [labels; null × n]; labels must be below the null class when there is one. */
    private long[] batchLabels(long[] labels, boolean guided) {
        long nullClass = denoiser.nullClass();
        for (int j = 0; j < labels.length; j++) {
            if (nullClass >= 0 && labels[j] >= nullClass) {
                throw new InvalidArgumentException("label " + j + " is " + labels[j] + "; this model has classes 0.."
                        + (nullClass - 1) + (labels[j] == nullClass ? " (" + nullClass + " is the null class)" : ""));
            }
        }
        if (!guided) {
            return labels;
        }
        if (nullClass < 0) {
            throw new InvalidArgumentException("classifier-free guidance needs a null class, and this model has none "
                    + "(class_dropout_prob = 0); use guidance scale 1");
        }
        long[] y = Arrays.copyOf(labels, 2 * labels.length);
        Arrays.fill(y, labels.length, y.length, nullClass);
        return y;
    }
}
