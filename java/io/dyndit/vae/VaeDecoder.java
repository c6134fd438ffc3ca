package io.dyndit.vae;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
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
 * planned once and reused for every later tile of that shape. Not thread-safe: one decoder per thread.
 */
public final class VaeDecoder implements AutoCloseable {
    /** Workspace memory a tile may use when the caller does not fix the tile size. */
    public static final long DEFAULT_TILE_BYTES = 512L << 20;
    private static final int CACHED_PLANS = 2;  // a batch needs at most two tile shapes: full tiles and the rest

    private final VaeConfig config;
    private final VaeWeights weights;
    private final Device device;
    private io.dyndit.core.Precision precision = io.dyndit.core.Precision.TF32;
    private int tileSamples;  // 0: chosen from DEFAULT_TILE_BYTES
    private final Map<String, VaePlan> plans = new LinkedHashMap<>(4, 0.75f, true);

    private VaeDecoder(VaeConfig config, VaeWeights weights, Device device) {
        this.config = config;
        this.weights = weights;
        this.device = device;
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
        return new VaeDecoder(config, VaeWeights.load(file, config, device), device);
    }

    public VaeConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** Convolution arithmetic on CUDA devices (default TF32; BF16 runs as TF32); the CPU computes FP32. */
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
        if (device.isCuda()) {
            device.setGemmPrecision(precision);
        }
        int perLatent = config.latentChannels() * h * w, perImage = oc * oh * ow;
        for (int first = 0; first < n; first += tile) {
            int count = Math.min(tile, n - first);
            VaePlan plan = plan(count, h, w);
            plan.input.copyFrom(Arrays.copyOfRange(decoderIn, first * perLatent, (first + count) * perLatent));
            plan.run(observer, first);
            System.arraycopy(plan.image.toFloatArray(), 0, image, first * perImage, count * perImage);
        }
        return new DecodedImages(image, n, oc, oh, ow);
    }

    private void checkLatents(float[] data, long[] shape, String name) {
        if (shape.length != 4 || shape[1] != config.latentChannels() || shape[0] < 0 || shape[2] < 1 || shape[3] < 1) {
            throw new ShapeMismatchException("latent '" + name + "' has shape " + Arrays.toString(shape) + ", expected [N, "
                    + config.latentChannels() + ", h, w] (latent_channels of the VAE config)");
        }
        long count = shape[0] * shape[1] * shape[2] * shape[3];
        if (count != data.length) {
            throw new ShapeMismatchException("latent '" + name + "' has " + data.length + " values, shape "
                    + Arrays.toString(shape) + " needs " + count);
        }
        long pixels = count / shape[1] * config.outChannels() * (long) config.upscale() * config.upscale();
        if (pixels > Integer.MAX_VALUE - 8) {
            throw new ShapeMismatchException("latent '" + name + "' " + Arrays.toString(shape)
                    + " decodes to more values than one Java array holds; decode it in parts");
        }
    }

    /** The plan for this tile shape, planned on first use; the least recently used one beyond two is freed. */
    private VaePlan plan(int n, int h, int w) {
        String key = n + "x" + h + "x" + w;
        VaePlan p = plans.get(key);
        if (p == null) {
            p = new VaePlan(weights, config, device, n, h, w);
            plans.put(key, p);
            Iterator<Map.Entry<String, VaePlan>> it = plans.entrySet().iterator();
            while (plans.size() > CACHED_PLANS) {
                it.next().getValue().close();
                it.remove();
            }
        }
        return p;
    }

    @Override
    public void close() {
        for (VaePlan p : plans.values()) {
            p.close();
        }
        plans.clear();
        weights.close();
    }
}
