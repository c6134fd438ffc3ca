package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.io.NpzWriter;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import io.dyndit.model.DiTModel;
import io.dyndit.model.RandomDiT;
import io.dyndit.sampling.ConsoleProgressBar;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.ProgressListener;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `dyndit demo`: the main job on a machine with no checkpoint. No weights can be downloaded here, so the
 * model is a DiT-S/2 (256x256 latents of 32x32) whose weights are generated deterministically from a
 * fixed seed: the pipeline is real, the pictures it would make are noise.
 */
@Command(name = "demo", sortOptions = false, description = "Short generation and PNGs from a built-in DiT-S/2 + VAE "
        + "with deterministic random weights (no download).")
final class DemoCommand extends CliCommand {
    @Option(names = "--out", paramLabel = "DIR", defaultValue = "target/demo",
            description = "directory for latents and PNGs (default: ${DEFAULT-VALUE})")
    Path dir;

    @Option(names = "--steps", paramLabel = "N", defaultValue = "25", description = "sampling steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--labels", paramLabel = "L,L,...", defaultValue = "207,360", converter = Converters.LabelsValue.class,
            description = "class labels (default: ${DEFAULT-VALUE})")
    Converters.Labels labels;

    @Option(names = "--cfg-scale", paramLabel = "S", defaultValue = "4.0", description = "guidance scale (default: ${DEFAULT-VALUE})")
    double cfgScale;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "0", description = "noise seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() {
        DiTConfig c = DiTConfig.preset("DiT-S/2", 32);
        long[] l = labels.values();
        GenerationRequest r = GenerationRequest.builder().labels(l).steps(steps).cfgScale(cfgScale).seed(seed)
                .progress(console.showProgress() ? new ConsoleProgressBar(console.err, "demo") : ProgressListener.NONE).build();
        FileChecks.writableDir(dir);
        Path latents = dir.resolve("samples.safetensors"), npz = dir.resolve("samples.npz");
        console.info("dyndit demo: DiT-S/2 with deterministic random weights (seed 1; no checkpoint can be downloaded "
                + "here, so the samples are noise-like), %s", r);
        GenerationResult g;
        try (DiTModel model = ModelLoading.dit(new RandomDiT(c, 1), c, Device.cpu(), false)) {
            g = new DiffusionSampler(model.denoiser()).generate(r);
        }
        if (r.progress() instanceof ConsoleProgressBar bar) {
            bar.finish();
        }
        console.info("  %d steps in %.2f s (%.2f steps/s), %.1f GMACs executed (static DiT-S/2: %.2f GMACs "
                + "per sample per forward)", g.steps().size(), g.seconds(), g.stepsPerSecond(), g.executedMacs() / 1e9,
                DiTMacs.total(c) / 1e9);
        try {
            Files.createDirectories(dir);
        } catch (java.io.IOException e) {
            throw new io.dyndit.io.CheckpointException("cannot create directory " + dir + ": " + ErrorMessages.ioWords(e), e);
        }
        // A built-in decoder with the SD-VAE structure at reduced widths (random weights too: untrained).
        io.dyndit.vae.VaeConfig vc = new io.dyndit.vae.VaeConfig(java.util.List.of(32, 64, 128, 128), 1, 32, 4, 3,
                0.18215, 0, true, true);
        long v0 = System.nanoTime();
        io.dyndit.vae.DecodedImages images;
        try (io.dyndit.vae.VaeDecoder vae = ModelLoading.vae(new io.dyndit.vae.RandomVae(vc, 1), vc, Device.cpu())) {
            images = vae.decodeLatents(g.samples(), g.shape());
        }
        console.info("  decoded with a built-in SD-VAE-shaped decoder (widths 32-128, untrained) in %.2f s",
                (System.nanoTime() - v0) / 1e9);
        OutputFiles.safetensors(latents, new SafetensorsWriter().addFloats("samples", g.shape(), g.samples()));
        OutputFiles.npz(npz, new NpzWriter().addFloats("arr_0", g.shape(), g.samples())
                .addLongs("labels", new long[] {l.length}, l));
        console.info("  wrote latents %s and %s", latents, npz);
        SampleCommand.writeImages(images, dir, console);
        console.info("  the built-in weights are NOT trained; for real pictures run: ./dyndit sample --weights "
                + "DiT-XL-2-256x256.pt --labels 207,360 --vae sd-vae-ft-ema/diffusion_pytorch_model.safetensors --png DIR");
        return Main.OK;
    }
}
