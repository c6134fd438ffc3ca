package io.dyndit.sampling;

import io.dyndit.core.DType;
import io.dyndit.core.Ops;
import io.dyndit.core.Ranges;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import java.util.Arrays;
import java.util.List;

/**
 * The sampling loop with its latents on the model's device: buffers are planned once per generation, each step
 * uploads only its noise, the update runs on the device (bit for bit the Java update), and the samples come back
 * at the end. A step's tensors are downloaded only when the request has an inspector.
 */
final class DeviceLoop {
    private final DeviceDenoiser denoiser;
    private final GenerationRequest r;
    private final DiffusionSchedule schedule;
    private final VarianceType variance;
    private final long[] y;
    private final long[] shape;
    private final int outChannels;
    private final boolean noisy;

    private final DpmSolverSchedule dpm; // null: DDPM / DDIM

    DeviceLoop(DeviceDenoiser denoiser, GenerationRequest r, DiffusionSchedule schedule, DpmSolverSchedule dpm,
            VarianceType variance, long[] y, long[] shape, int outChannels, boolean noisy) {
        this.dpm = dpm;
        this.denoiser = denoiser;
        this.r = r;
        this.schedule = schedule;
        this.variance = variance;
        this.y = y;
        this.shape = shape;
        this.outChannels = outChannels;
        this.noisy = noisy;
    }

    /** Runs every step from the initial latents x; returns the final latents (whole batch). */
    float[] run(float[] x, List<StepStats> stats, long start) {
        int steps = r.steps(), batch = (int) shape[0], perSample = (int) (shape[1] * shape[2] * shape[3]);
        boolean inspect = r.inspector() != StepInspector.NONE;
        try (Scope s = Scope.open()) {
            Tensor cur = s.of(denoiser.device(), x, shape), next = s.empty(denoiser.device(), DType.F32, shape);
            Tensor noiseDev = noisy ? s.empty(denoiser.device(), DType.F32, shape) : null;
            Tensor pred = inspect ? s.empty(denoiser.device(), DType.F32, shape) : null;
            // DPM-Solver++: a ring of three data predictions (this step's, and m1, m2 of the two before)
            Tensor[] x0Ring = dpm == null ? null : new Tensor[] {s.empty(denoiser.device(), DType.F32, shape),
                s.empty(denoiser.device(), DType.F32, shape), s.empty(denoiser.device(), DType.F32, shape)};
            for (int k = 0; k < steps; k++) {
                if (r.cancellation().isCancelled() || Thread.currentThread().isInterrupted()) {
                    throw new GenerationCancelledException("generation cancelled after " + k + " of " + steps + " steps",
                            k);
                }
                long stepStart = System.nanoTime();
                int i = dpm != null ? k : steps - 1 - k;
                long t = dpm != null ? dpm.timestep(k) : schedule.timestep(i);
                Ranges.push("sampler step");
                DeviceDenoiser.DeviceEvaluation ev;
                try {
                    ev = denoiser.evaluate(cur, y, k, t, r.cfgScale());
                } finally {
                    Ranges.pop();
                }
                long[] want = {batch, outChannels, shape[2], shape[3]};
                if (!Arrays.equals(ev.output().shape(), want)) {
                    throw new ShapeMismatchException("the model returned " + Arrays.toString(ev.output().shape())
                            + " at step " + k + ", expected " + Arrays.toString(want));
                }
                float[] noise = noisy && i != 0 ? r.noise().stepNoise(k, r.sampleCount(), batch, perSample)
                        : null;
                if (noise != null) {
                    noiseDev.copyFrom(noise);
                }
                Ranges.push("sampler update");
                if (dpm != null) {
                    Tensor x0 = x0Ring[k % 3], m1 = x0Ring[(k + 2) % 3], m2 = x0Ring[(k + 1) % 3];
                    Ops.dpmUpdate(cur, ev.output(), m1, m2, x0, next, DpmSolverUpdate.coefs(dpm, k), dpm.order(k));
                    pred = inspect ? x0 : null;
                } else if (r.sampler() == SamplerType.DDPM) {
                    Ops.ddpmUpdate(cur, ev.output(), noise != null ? noiseDev : null, pred, next,
                            DdpmUpdate.coefs(schedule, i), variance == VarianceType.LEARNED_RANGE);
                } else {
                    Ops.ddimUpdate(cur, ev.output(), noise != null ? noiseDev : null, pred, next,
                            DdimUpdate.coefs(schedule, i, r.eta()));
                }
                Ranges.pop();
                if (inspect) {
                    r.inspector().onStep(new StepTrace(k, i, t, cur.toFloatArray(), ev.output().toFloatArray(),
                            pred.toFloatArray(), noise, next.toFloatArray()));
                }
                Tensor swap = cur;
                cur = next;
                next = swap;
                long now = System.nanoTime();
                StepStats st = new StepStats(k, i, t, (now - stepStart) / 1e9, ev.macs(), ev.attnMacs(), ev.mlpMacs());
                stats.add(st);
                r.progress().onStep(st, steps, (now - start) / 1e9);
            }
            return cur.toFloatArray();
        }
    }
}
