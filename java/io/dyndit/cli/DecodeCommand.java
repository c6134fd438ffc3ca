package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.DType;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.vae.DecodedImages;
import io.dyndit.vae.PngImages;
import io.dyndit.vae.VaeConfig;
import io.dyndit.vae.VaeDecoder;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/** `dyndit decode`: raw DiT latents to images through the SD-VAE decoder (safetensors out, PNGs optional). */
final class DecodeCommand implements Main.Command {
    private static final String USAGE = "dyndit decode --vae FILE(.safetensors|.pt|.ckpt) [--config FILE.json] "
            + "--latents FILE.safetensors [--key z] --out FILE.safetensors [--png DIR] [--tile N] [--device cpu|cuda|cuda-emu] [--precision tf32|fp32]\n"
            + "  the latents are the raw samples (divided by the config's scaling_factor here, as DiT does);\n"
            + "  without --config: the AutoencoderKL config.json beside --vae if there is one, else the structure read\n"
            + "  off the tensors with norm_num_groups 32 and scaling_factor 0.18215 (the SD-VAE's)";

    @Override
    public String summary() {
        return "decode latents with the SD-VAE: writes `image` f32 [N,3,H,W], `uint8` [N,H,W,3], PNGs with --png";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws UsageException {
        Args a = new Args(argv, Set.of("--vae", "--config", "--latents", "--key", "--out", "--png", "--tile", "--device",
                "--precision"),
                Set.of(), USAGE);
        Device device = Device.parse(a.get("--device", "cpu"));
        io.dyndit.core.Precision precision = io.dyndit.core.Precision.parse(a.get("--precision", "tf32"));
        Path vaeFile = a.path("--vae"), latentsFile = a.path("--latents"), outFile = a.path("--out");
        Path pngDir = a.optionalPath("--png");
        int tile = a.integer("--tile", 0);
        if (tile < 0) {
            throw new UsageException("--tile must be >= 0, got " + tile);
        }
        String key = a.get("--key", "z");
        float[] z;
        long[] shape;
        try (TensorFile in = TensorFiles.open(latentsFile)) {
            StoredTensor t = in.get(key);
            shape = t.shape();
            if (shape.length != 4) {
                throw new ShapeMismatchException("tensor '" + key + "' in " + in.source() + " has shape "
                        + Arrays.toString(shape) + ", expected [N, latent_channels, h, w]");
            }
            z = t.toFloatArray();
        }
        long start = System.nanoTime();
        DecodedImages images;
        if (!a.has("--config") && VaeConfig.besideWeights(vaeFile) == null) {
            err.println("dyndit decode: note: no --config and no AutoencoderKL config.json beside " + vaeFile
                    + ": structure read off the tensors, norm_num_groups 32 and scaling_factor 0.18215 assumed (SD-VAE)");
        }
        try (VaeDecoder vae = VaeDecoder.load(vaeFile, a.optionalPath("--config"), device)) {
            images = vae.precision(precision).tileSamples(tile).decodeLatents(z, shape);
        }
        byte[] bytes = images.uint8Nhwc();
        new SafetensorsWriter()
                .addFloats("image", images.shape(), images.image())
                .add(StoredTensor.of("uint8", DType.U8, new long[] {images.n(), images.height(), images.width(),
                        images.channels()}, ByteBuffer.wrap(bytes)))
                .write(outFile);
        out.printf(Locale.ROOT, "decoded %d latent(s) %s -> images %dx%d in %.2f s; wrote %s%n", images.n(),
                Arrays.toString(shape), images.height(), images.width(), (System.nanoTime() - start) / 1e9, outFile);
        if (pngDir != null) {
            if (images.channels() != 3) {
                throw new ShapeMismatchException("--png needs RGB images, the VAE gives " + images.channels()
                        + " channels");
            }
            PngImages.writeEach(pngDir, bytes, images.n(), images.height(), images.width());
            out.printf(Locale.ROOT, "wrote %d PNG(s) to %s%n", images.n(), pngDir);
        }
        return 0;
    }
}
