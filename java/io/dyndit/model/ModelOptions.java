package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Precision;
import java.nio.file.Path;
import java.util.Objects;

/**
 * How {@link DiTModel#load(Path, ModelOptions)} loads and runs a checkpoint:
 * {@code ModelOptions.builder().device(Device.cpu()).staticModel(true).build()}.
 *
 * <p>Thread-safety: immutable, safe to share; the {@link Builder} is not thread-safe.
 */
public final class ModelOptions {
    private final Path config;
    private final Device device;
    private final boolean staticModel;
    private final Precision precision;
    private final boolean cudaGraphs;
    private final int maxConcurrency;

    private ModelOptions(Builder b) {
        this.config = b.config;
        this.device = b.device;
        this.staticModel = b.staticModel;
        this.precision = b.precision;
        this.cudaGraphs = b.cudaGraphs;
        this.maxConcurrency = b.maxConcurrency;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** CPU, config inferred from the shapes, dynamic where the checkpoint is, TF32 on CUDA, graphs on. */
    public static ModelOptions defaults() {
        return builder().build();
    }

    /** The DiT constructor JSON, or null: inferred from the checkpoint's shapes and the DiT presets. */
    public Path config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** Whether a DyDiT/DiffCR checkpoint runs as the complete static model (its routers ignored). */
    public boolean staticModel() {
        return staticModel;
    }

    public Precision precision() {
        return precision;
    }

    public boolean cudaGraphs() {
        return cudaGraphs;
    }

    /** At most this many calls run at once on the model (each with its own workspaces); more callers wait. */
    public int maxConcurrency() {
        return maxConcurrency;
    }

    /** Builder of {@link ModelOptions}. Not thread-safe. */
    public static final class Builder {
        private Path config;
        private Device device = Device.cpu();
        private boolean staticModel;
        private Precision precision = Precision.TF32;
        private boolean cudaGraphs = true;
        private int maxConcurrency = Math.max(2, Runtime.getRuntime().availableProcessors());

        private Builder() {}

        public Builder config(Path configJson) {
            this.config = configJson;
            return this;
        }

        public Builder device(Device device) {
            this.device = Objects.requireNonNull(device, "device");
            return this;
        }

        /** true: run a DyDiT or DiffCR checkpoint as the complete model (the official "complete model" output). */
        public Builder staticModel(boolean complete) {
            this.staticModel = complete;
            return this;
        }

        /** Matrix products (default TF32, as the official sampler runs on CUDA; fp32 on the CPU); see DiTModel#precision. */
        public Builder precision(Precision precision) {
            this.precision = Objects.requireNonNull(precision, "precision");
            return this;
        }

        /** Capture host-free forwards as CUDA graphs on CUDA devices (default on). */
        public Builder cudaGraphs(boolean on) {
            this.cudaGraphs = on;
            return this;
        }

        /** Calls running at once, each with its own execution context (default: max(2, cores)). */
        public Builder maxConcurrency(int callers) {
            if (callers < 1) {
                throw new InvalidArgumentException("maxConcurrency must be >= 1, got " + callers);
            }
            this.maxConcurrency = callers;
            return this;
        }

        public ModelOptions build() {
            return new ModelOptions(this);
        }
    }
}
