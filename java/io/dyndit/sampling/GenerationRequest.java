package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import java.util.Arrays;
import java.util.Objects;

/**
 * One generation: class labels (one sample each), sampler, number of respaced steps, guidance scale, DDIM eta and the
 * noise. Defaults follow the official sample.py: DDPM, 250 steps, guidance 4.0, seed 0. Built with {@link #builder()};
 * values that are wrong whatever the model throw {@link InvalidArgumentException} from {@link Builder#build()}.
 * The device is the model's.
 *
 * <p>Thread-safety: immutable; one request may serve generations on many threads at once when its noise source,
 * listener and inspector allow it (the default seeded noise does; listeners run on each generating thread). The
 * {@link Builder} is not thread-safe.
 */
public final class GenerationRequest {
    public static final int DEFAULT_STEPS = 250;
    public static final double DEFAULT_CFG_SCALE = 4.0;

    private final long[] labels;
    private final int steps;
    private final SamplerType sampler;
    private final double cfgScale;
    private final double eta;
    private final NoiseSource noise;
    private final ProgressListener progress;
    private final StepInspector inspector;
    private final Cancellation cancellation;

    private GenerationRequest(Builder b) {
        labels = b.labels;
        steps = b.steps;
        sampler = b.sampler;
        cfgScale = b.cfgScale;
        eta = b.eta;
        noise = b.noise != null ? b.noise : NoiseSource.seeded(b.seed);
        progress = b.progress;
        inspector = b.inspector;
        cancellation = b.cancellation;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The same request (labels, steps, sampler, guidance, noise) with another progress listener and no inspector. */
    public GenerationRequest withProgress(ProgressListener listener) {
        Builder b = new Builder().labels(labels).steps(steps).sampler(sampler).cfgScale(cfgScale).eta(eta).noise(noise)
                .progress(listener).cancellation(cancellation);
        return new GenerationRequest(b);
    }

    public long[] labels() {
        return labels.clone();
    }

    public int sampleCount() {
        return labels.length;
    }

    public int steps() {
        return steps;
    }

    public SamplerType sampler() {
        return sampler;
    }

    public double cfgScale() {
        return cfgScale;
    }

    /** Guidance runs (batch [z; z], forward_with_cfg) unless the scale is exactly 1. */
    public boolean guided() {
        return cfgScale != 1.0;
    }

    public double eta() {
        return eta;
    }

    public NoiseSource noise() {
        return noise;
    }

    public ProgressListener progress() {
        return progress;
    }

    public StepInspector inspector() {
        return inspector;
    }

    public Cancellation cancellation() {
        return cancellation;
    }

    /** Collects the request's values; {@link #build()} checks them. */
    public static final class Builder {
        private long[] labels;
        private int steps = DEFAULT_STEPS;
        private SamplerType sampler = SamplerType.DDPM;
        private double cfgScale = DEFAULT_CFG_SCALE;
        private double eta = 0.0;
        private long seed = 0;
        private NoiseSource noise;
        private ProgressListener progress = ProgressListener.NONE;
        private StepInspector inspector = StepInspector.NONE;
        private Cancellation cancellation = new Cancellation();

        private Builder() {}

        /** One sample per label, in this order. */
        public Builder labels(long... labels) {
            this.labels = labels.clone();
            return this;
        }

        /** Respaced steps S, 1..1000 (create_diffusion(str(S))). */
        public Builder steps(int steps) {
            this.steps = steps;
            return this;
        }

        public Builder sampler(SamplerType sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Classifier-free guidance scale, >= 0; exactly 1 means no guidance (plain forward, batch n). */
        public Builder cfgScale(double cfgScale) {
            this.cfgScale = cfgScale;
            return this;
        }

        /** DDIM's eta in [0, 1] (0 = deterministic DDIM); ignored by DDPM. */
        public Builder eta(double eta) {
            this.eta = eta;
            return this;
        }

        /** Seed of the built-in generator ({@link SeededNoise}); ignored when {@link #noise} is set. */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Noise from elsewhere, e.g. {@link InjectedNoise} to replay the official sampler's draws. */
        public Builder noise(NoiseSource noise) {
            this.noise = noise;
            return this;
        }

        public Builder progress(ProgressListener progress) {
            this.progress = Objects.requireNonNull(progress, "progress");
            return this;
        }

        public Builder inspector(StepInspector inspector) {
            this.inspector = Objects.requireNonNull(inspector, "inspector");
            return this;
        }

        public Builder cancellation(Cancellation cancellation) {
            this.cancellation = Objects.requireNonNull(cancellation, "cancellation");
            return this;
        }

        public GenerationRequest build() {
            if (labels == null || labels.length == 0) {
                throw new InvalidArgumentException("a generation needs at least one class label");
            }
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] < 0) {
                    throw new InvalidArgumentException("label " + i + " is " + labels[i] + "; class labels are >= 0");
                }
            }
            if (steps < 1 || steps > DiffusionSchedule.TRAINING_TIMESTEPS) {
                throw new InvalidArgumentException("steps must be between 1 and " + DiffusionSchedule.TRAINING_TIMESTEPS
                        + ", got " + steps);
            }
            if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
                throw new InvalidArgumentException("guidance scale must be a finite number >= 0, got " + cfgScale);
            }
            if (sampler.dpmOrder() > 0 && (steps < sampler.dpmOrder() || steps > DiffusionSchedule.TRAINING_TIMESTEPS - 1)) {
                throw new InvalidArgumentException(sampler.cliName() + " needs between " + sampler.dpmOrder() + " and "
                        + (DiffusionSchedule.TRAINING_TIMESTEPS - 1) + " steps, got " + steps);
            }
            if (!(eta >= 0 && eta <= 1)) {
                throw new InvalidArgumentException("eta must be between 0 and 1, got " + eta);
            }
            return new GenerationRequest(this);
        }
    }

    @Override
    public String toString() {
        return sampler.cliName() + " " + steps + " steps, cfg " + cfgScale + (sampler == SamplerType.DDIM ? ", eta " + eta
                : "") + ", labels " + Arrays.toString(labels);
    }
}
