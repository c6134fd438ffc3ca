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

    DeviceLoop(DeviceDenoiser denoiser, GenerationRequest r, DiffusionSchedule schedule, VarianceType variance, long[] y,
            long[] shape, int outChannels, boolean noisy) {
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
            for (int k = 0; k < steps; k++) {
                if (r.cancellation().isCancelled() || Thread.currentThread().isInterrupted()) {
                    throw new GenerationCancelledException("generation cancelled after " + k + " of " + steps + " steps",
                            k);
                }
                long stepStart = System.nanoTime();
                int i = steps - 1 - k;
                long t = schedule.timestep(i);
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
                if (r.sampler() == SamplerType.DDPM) {
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
