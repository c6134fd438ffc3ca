package io.dyndit.vae;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ModelClosedException;
import io.dyndit.internal.ContextPool;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The SD-VAE (diffusers AutoencoderKL) decoder: latents to images, exactly as {@code vae.decode(z /
 * scaling_factor).sample} computes them. A batch is decoded in tiles of samples; each tile shape gets its buffers
 * planned once and reused for every later tile of that shape.
 *
 * <p>Thread-safety: safe to share. decode calls from many threads run at once, each with its own tile plans
 * (leased from a bounded pool, {@code max(2, cores)} by default; more callers wait) and return exactly what the
 * same call returns alone; the weights are shared read-only. close() waits for running decodes; later calls throw
 * {@link ModelClosedException}. {@link #precision} and {@link #tileSamples} apply to every later call.
 */
public final class VaeDecoder implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("io.dyndit.vae");
    /** Workspace memory a tile may use when the caller does not fix the tile size. */
    public static final long DEFAULT_TILE_BYTES = 512L << 20;
    private static final int CACHED_PLANS = 2;  // a batch needs at most two tile shapes: full tiles and the rest

    private final VaeConfig config;
    private final VaeWeights weights;
    private final Device device;
    private volatile io.dyndit.core.Precision precision = io.dyndit.core.Precision.TF32;
    private volatile int tileSamples;  // 0: chosen from DEFAULT_TILE_BYTES
    private final ContextPool<Plans> contexts;
    private final io.dyndit.internal.Lifecycle lifecycle = new io.dyndit.internal.Lifecycle("VAE decoder");

    /** One caller's tile plans: the two most recent tile shapes. */
    private final class Plans implements AutoCloseable {
        private final Map<String, VaePlan> byShape = new LinkedHashMap<>(4, 0.75f, true);

        /** The plan for this tile shape, planned on first use; the least recently used one beyond two is freed. */
        VaePlan plan(int n, int h, int w) {
            String key = n + "x" + h + "x" + w;
            VaePlan p = byShape.get(key);
            if (p == null) {
                p = new VaePlan(weights, config, device, n, h, w);
                byShape.put(key, p);
                Iterator<Map.Entry<String, VaePlan>> it = byShape.entrySet().iterator();
                while (byShape.size() > CACHED_PLANS) {
                    it.next().getValue().close();
                    it.remove();
                }
            }
            return p;
        }

        @Override
        public void close() {
            for (VaePlan p : byShape.values()) {
                p.close();
            }
            byShape.clear();
        }
    }

    private VaeDecoder(VaeConfig config, VaeWeights weights, Device device, int maxConcurrency) {
        this.config = config;
        this.weights = weights;
        this.device = device;
        this.contexts = new ContextPool<>(maxConcurrency, Plans::new);
    }

    /**
     * Loads {@code weightsFile} (diffusion_pytorch_model.safetensors, or a .pt/.ckpt read by the safe reader) with
     * the given config.json; when {@code configJson} is null, with the AutoencoderKL config.json beside the weights
     * (as the hub ships them), else with the structure inferred from the tensors ({@link VaeConfig#infer}).
     */
    public static VaeDecoder load(Path weightsFile, Path configJson, Device device) {
        try (TensorFile f = TensorFiles.open(weightsFile)) {
            return load(f, configFor(weightsFile, configJson, f), device);
        }
    }

    /** The config {@link #load(Path, Path, Device)} uses: given, beside the weights, or inferred. */
    public static VaeConfig configFor(Path weightsFile, Path configJson, TensorFile weights) {
        if (configJson != null) {
            return VaeConfig.fromJson(configJson);
        }
        VaeConfig beside = VaeConfig.besideWeights(weightsFile);
        return beside != null ? beside : VaeConfig.infer(weights);
    }

    /** Copies the decoder tensors of {@code file} to {@code device}; {@code file} may be closed afterwards. */
    public static VaeDecoder load(TensorFile file, VaeConfig config, Device device) {
        return load(file, config, device, Math.max(2, Runtime.getRuntime().availableProcessors()));
    }

    /** As {@link #load(TensorFile, VaeConfig, Device)}, with at most {@code maxConcurrency} decodes at once. */
    public static VaeDecoder load(TensorFile file, VaeConfig config, Device device, int maxConcurrency) {
        if (maxConcurrency < 1) {
            throw new InvalidArgumentException("maxConcurrency must be >= 1, got " + maxConcurrency);
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "VAE " + file.source() + ": scaling factor " + config.scalingFactor()
                + ", shift " + config.shiftFactor() + ", " + config.normNumGroups() + " GroupNorm groups, upscale "
                + config.upscale() + " on " + device);
        return new VaeDecoder(config, VaeWeights.load(file, config, device), device, maxConcurrency);
    }

    public VaeConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /**
     * Convolution and linear arithmetic: on CUDA devices default TF32 (BF16 runs as TF32); on the CPU FP32 (TF32 means
     * FP32 there) or BF16 (oneDNN bf16 convolutions and attention linears, fp32 accumulation; 1x1 convolutions,
     * GroupNorm and softmax stay fp32). A decode in BF16 on a CPU without bf16 arithmetic throws
     * {@link io.dyndit.core.UnsupportedOnDeviceException}.
     */
    public VaeDecoder precision(io.dyndit.core.Precision p) {
        this.precision = java.util.Objects.requireNonNull(p, "precision");
        return this;
    }

    /** Samples decoded together (0: as many as fit {@link #DEFAULT_TILE_BYTES} of workspace, at least one). */
    public VaeDecoder tileSamples(int samples) {
        if (samples < 0) {
            throw new InvalidArgumentException("tile size must be >= 0 samples, got " + samples);
        }
        this.tileSamples = samples;
        return this;
    }

    /** The tile size used for a batch of {@code n} latents of h x w. */
    public int tileFor(int n, int h, int w) {
        if (tileSamples > 0) {
            return Math.min(n, tileSamples);
        }
        long pixels = (long) h * w * config.upscale() * config.upscale();
        long perSample = 4 * (3 * VaePlan.largestActivation(config, 1, h, w) + 3L * config.innerWidth() * h * w
                + (long) config.outChannels() * pixels);
        return (int) Math.max(1, Math.min(n, DEFAULT_TILE_BYTES / Math.max(1, perSample)));
    }

    /** DiT's use: {@code decode(z / scaling_factor + shift_factor)}; z is the raw latent [N, latent_channels, h, w]. */
    public DecodedImages decodeLatents(float[] z, long[] shape) {
        return decodeLatents(z, shape, VaeObserver.NONE);
    }

    public DecodedImages decodeLatents(float[] z, long[] shape, VaeObserver observer) {
        checkLatents(z, shape, "z");
        float scale = (float) config.scalingFactor(), shift = (float) config.shiftFactor();
        float[] in = new float[z.length];
        for (int i = 0; i < z.length; i++) {
            in[i] = z[i] / scale + shift;  // float32, as torch divides a float tensor by a Python float
        }
        return decode(in, shape, observer);
    }

    /** {@code AutoencoderKL.decode(decoderIn).sample}: no scaling (the caller has done it). */
    public DecodedImages decode(float[] decoderIn, long[] shape) {
        return decode(decoderIn, shape, VaeObserver.NONE);
    }

    public DecodedImages decode(float[] decoderIn, long[] shape, VaeObserver observer) {
        checkLatents(decoderIn, shape, "decoder_in");
        int n = (int) shape[0], h = (int) shape[2], w = (int) shape[3];
        int oh = h * config.upscale(), ow = w * config.upscale(), oc = config.outChannels();
        float[] image = new float[Math.toIntExact((long) n * oc * oh * ow)];
        int tile = tileFor(n, h, w);
        int perLatent = config.latentChannels() * h * w, perImage = oc * oh * ow;
        lifecycle.whileOpen(() -> {
            device.setGemmPrecision(precision); // per calling thread
            try (ContextPool<Plans>.Lease lease = contexts.acquire()) {
                for (int first = 0; first < n; first += tile) {
                    int count = Math.min(tile, n - first);
                    VaePlan plan = lease.context().plan(count, h, w);
                    plan.input.copyFrom(Arrays.copyOfRange(decoderIn, first * perLatent, (first + count) * perLatent));
                    plan.run(observer, first);
                    System.arraycopy(plan.image.toFloatArray(), 0, image, first * perImage, count * perImage);
                }
            }
            return null;
        });
        return new DecodedImages(image, n, oc, oh, ow);
    }

    private void checkLatents(float[] data, long[] shape, String name) {
        if (shape.length != 4 || shape[1] != config.latentChannels() || shape[0] < 0 || shape[2] < 1 || shape[3] < 1) {
            throw new ShapeMismatchException("latent '" + name + "' has shape " + Arrays.toString(shape) + ", expected [N, "
                    + config.latentChannels() + ", h, w] (latent_channels of the VAE config)");
        }
        long count;
        try {
            count = Math.multiplyExact(Math.multiplyExact(shape[0], shape[1]), Math.multiplyExact(shape[2], shape[3]));
        } catch (ArithmeticException e) {
            throw new ShapeMismatchException("latent '" + name + "' shape " + Arrays.toString(shape) + " is too large");
        }
        if (count != data.length) {
            throw new ShapeMismatchException("latent '" + name + "' has " + data.length + " values, shape "
                    + Arrays.toString(shape) + " needs " + count);
        }
        double pixels = (double) (count / shape[1]) * config.outChannels() * config.upscale() * config.upscale();
        if (pixels > Integer.MAX_VALUE - 8) {
            throw new ShapeMismatchException("latent '" + name + "' " + Arrays.toString(shape)
                    + " decodes to more values than one Java array holds; decode it in parts");
        }
    }

    /** Frees the decoder after running decodes finish; idempotent; later decodes throw ModelClosedException. */
    @Override
    public void close() {
        if (!lifecycle.close()) {
            return;
        }
        contexts.close();
        weights.close();
    }
}
