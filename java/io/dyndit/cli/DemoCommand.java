package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.io.NpzWriter;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import io.dyndit.model.DiTModel;
import io.dyndit.model.RandomDiT;
import io.dyndit.sampling.AtomicOutput;
import io.dyndit.sampling.ConsoleProgressBar;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.ProgressListener;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * `dyndit demo`: the main job on a machine with no checkpoint. No weights can be downloaded here, so the
 * model is a DiT-S/2 (256x256 latents of 32x32) whose weights are generated deterministically from a
 * fixed seed: the pipeline is real, the pictures it would make are noise.
 */
final class DemoCommand implements Main.Command {
    private static final String USAGE = "dyndit demo [--out DIR (target/demo)] [--steps N (25)] [--labels 207,360] "
            + "[--cfg-scale S (4.0)] [--seed N (0)]";

    @Override
    public String summary() {
        return "short generation and PNGs from built-in DiT-S/2 + VAE with deterministic random weights (no download)";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws Exception {
        Args a = new Args(argv, Set.of("--out", "--steps", "--labels", "--cfg-scale", "--seed"), Set.of(), USAGE);
        Path dir = Path.of(a.get("--out", "target/demo"));
        Files.createDirectories(dir);
        DiTConfig c = DiTConfig.preset("DiT-S/2", 32);
        String[] parts = a.get("--labels", "207,360").split(",");
        long[] labels = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            labels[i] = Long.parseLong(parts[i].trim());
        }
        GenerationRequest r = GenerationRequest.builder().labels(labels).steps(a.integer("--steps", 25))
                .cfgScale(a.number("--cfg-scale", 4.0)).seed(Long.parseLong(a.get("--seed", "0")))
                .progress(System.console() != null ? new ConsoleProgressBar(err, "demo") : ProgressListener.NONE).build();
        out.println("dyndit demo: DiT-S/2 with deterministic random weights (seed 1; no checkpoint can be downloaded "
                + "here, so the samples are noise-like), " + r);
        GenerationResult g;
        try (DiTModel model = DiTModel.load(new RandomDiT(c, 1), c, Device.cpu())) {
            g = new DiffusionSampler(model.denoiser()).generate(r);
        }
        if (r.progress() instanceof ConsoleProgressBar bar) {
            bar.finish();
        }
        Path latents = dir.resolve("samples.safetensors"), npz = dir.resolve("samples.npz");
        AtomicOutput.write(latents, p -> new SafetensorsWriter().addFloats("samples", g.shape(), g.samples()).write(p));
        new NpzWriter().addFloats("arr_0", g.shape(), g.samples()).addLongs("labels", new long[] {labels.length}, labels)
                .write(npz);
        out.printf(Locale.ROOT, "  %d steps in %.2f s (%.2f steps/s), %.1f GMACs executed (static DiT-S/2: %.2f GMACs "
                + "per sample per forward)%n", g.steps().size(), g.seconds(), g.stepsPerSecond(), g.executedMacs() / 1e9,
                DiTMacs.total(c) / 1e9);
        out.println("  wrote latents " + latents + " and " + npz);
        // A built-in decoder with the SD-VAE structure at reduced widths (random weights too: untrained).
        io.dyndit.vae.VaeConfig vc = new io.dyndit.vae.VaeConfig(java.util.List.of(32, 64, 128, 128), 1, 32, 4, 3,
                0.18215, 0, true, true);
        long v0 = System.nanoTime();
        io.dyndit.vae.DecodedImages images;
        try (io.dyndit.vae.VaeDecoder vae = io.dyndit.vae.VaeDecoder.load(new io.dyndit.vae.RandomVae(vc, 1), vc,
                Device.cpu())) {
            images = vae.decodeLatents(g.samples(), g.shape());
        }
        out.printf(Locale.ROOT, "  decoded with a built-in SD-VAE-shaped decoder (widths 32-128, untrained) in %.2f s%n",
                (System.nanoTime() - v0) / 1e9);
        SampleCommand.writeImages(images, dir, out);
        out.println("  the built-in weights are NOT trained; for real pictures run: ./dyndit sample --weights "
                + "DiT-XL-2-256x256.pt --labels 207,360 --vae sd-vae-ft-ema/diffusion_pytorch_model.safetensors --png DIR");
        return 0;
    }
}
