package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.DType;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.vae.DecodedImages;
import io.dyndit.vae.VaeConfig;
import io.dyndit.vae.VaeDecoder;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `dyndit decode`: raw DiT latents to images through the SD-VAE decoder (safetensors out, PNGs optional). */
@Command(name = "decode", sortOptions = false,
        description = {"Decode latents with the SD-VAE: writes `image` f32 [N,3,H,W], `uint8` [N,H,W,3], PNGs with --png.",
            "The latents are the raw samples (divided by the config's scaling_factor here, as DiT does). Without "
                    + "--config: the AutoencoderKL config.json beside --vae if there is one, else the structure read "
                    + "off the tensors with norm_num_groups 32 and scaling_factor 0.18215 (the SD-VAE's)."})
final class DecodeCommand extends CliCommand {
    @Option(names = "--vae", required = true, paramLabel = "FILE", description = "decoder checkpoint (.safetensors, .pt, .ckpt)")
    Path vae;

    @Option(names = "--config", paramLabel = "FILE", description = "AutoencoderKL config JSON")
    Path config;

    @Option(names = "--latents", required = true, paramLabel = "FILE", description = "safetensors holding the latents")
    Path latents;

    @Option(names = "--key", paramLabel = "NAME", defaultValue = "z", description = "tensor name of the latents (default: ${DEFAULT-VALUE})")
    String key;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors to write (`image`, `uint8`)")
    Path out;

    @Option(names = "--png", paramLabel = "DIR", description = "also write one PNG per image into DIR")
    Path png;

    @Option(names = "--tile", paramLabel = "N", defaultValue = "0",
            description = "decode N samples at a time (0: all at once; default: ${DEFAULT-VALUE})")
    int tile;

    @picocli.CommandLine.Mixin
    DeviceOptions devices;

    @Override
    public Integer call() throws UsageException {
        if (tile < 0) {
            throw new UsageException("--tile must be >= 0, got " + tile);
        }
        FileChecks.readable(vae);
        FileChecks.readable(config);
        FileChecks.readable(latents);
        FileChecks.writableFile(out);
        FileChecks.writableDir(png);
        float[] z;
        long[] shape;
        try (TensorFile in = TensorFiles.open(latents)) {
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
        if (config == null && VaeConfig.besideWeights(vae) == null) {
            console.note("decode", "no --config and no AutoencoderKL config.json beside " + vae
                    + ": structure read off the tensors, norm_num_groups 32 and scaling_factor 0.18215 assumed (SD-VAE)");
        }
        try (VaeDecoder decoder = ModelLoading.vae(vae, config, devices.device)) {
            images = decoder.precision(devices.precision).tileSamples(tile).decodeLatents(z, shape);
        }
        if (png != null && images.channels() != 3) { // checked before anything is written
            throw new ShapeMismatchException("--png needs RGB images, the VAE gives " + images.channels() + " channels");
        }
        byte[] bytes = images.uint8Nhwc();
        long[] u8Shape = {images.n(), images.height(), images.width(), images.channels()};
        SafetensorsWriter w = new SafetensorsWriter().addFloats("image", images.shape(), images.image())
                .add(StoredTensor.of("uint8", DType.U8, u8Shape, ByteBuffer.wrap(bytes)));
        OutputFiles.safetensors(out, w);
        console.info("decoded %d latent(s) %s -> images %dx%d in %.2f s; wrote %s: image %s, uint8 %s", images.n(),
                Arrays.toString(shape), images.height(), images.width(), (System.nanoTime() - start) / 1e9, out,
                Arrays.toString(images.shape()).replace(" ", ""), Arrays.toString(u8Shape).replace(" ", ""));
        if (png != null) {
            PngOutput.write(png, images, false);
            console.info("wrote %d PNG(s) to %s", images.n(), png);
        }
        return Main.OK;
    }
}
