package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.io.NpzWriter;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.model.DiTModel;
import io.dyndit.sampling.AtomicOutput;
import io.dyndit.sampling.ConsoleProgressBar;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.InjectedNoise;
import io.dyndit.sampling.ProgressListener;
import io.dyndit.sampling.SamplerType;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** `dyndit sample`: class-conditional generation of latents with the official DDPM/DDIM loop. */
final class SampleCommand implements Main.Command {
    private static final String USAGE = "dyndit sample --weights FILE [--config FILE.json] --labels 3,7 "
            + "[--sampler ddpm|ddim] [--steps N (250)] [--cfg-scale S (4.0; 1 = no guidance)] [--eta E (0, ddim)] "
            + "[--seed N (0) | --noise FILE.safetensors] --out FILE.safetensors [--trace] [--npz FILE.npz] "
            + "[--static] [--per-step] [--flexi-patch Q --flexi-steps K_c [--flexi-guidance-steps K_u] | --flexi-budget F] "
            + "[--weak-cfg-scale W] [--vae FILE [--vae-config FILE] --png DIR] [--device cpu|cuda|cuda-emu] [--precision tf32|fp32|bf16]";

    @Override
    public String summary() {
        return "generate latents for class labels (DDPM/DDIM, guidance) and write `samples` [n,C,I,I]";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws UsageException {
        Args a = new Args(argv, Set.of("--weights", "--config", "--labels", "--sampler", "--steps", "--cfg-scale", "--eta",
                "--seed", "--noise", "--out", "--npz", "--device", "--precision", "--flexi-patch", "--flexi-steps", "--flexi-guidance-steps",
                "--flexi-budget", "--weak-cfg-scale", "--vae", "--vae-config", "--png"),
                Set.of("--trace", "--static", "--per-step"), USAGE);
        if (a.has("--png") && !a.has("--vae")) {
            throw new UsageException("--png needs --vae FILE (the SD-VAE decoder checkpoint)\nusage: " + USAGE);
        }
        if (a.has("--seed") && a.has("--noise")) {
            throw new UsageException("give either --seed or --noise, not both\nusage: " + USAGE);
        }
        Path weights = a.path("--weights");
        Path outFile = a.path("--out");
        Path npz = a.optionalPath("--npz");
        Device device = Device.parse(a.get("--device", "cpu"));
        io.dyndit.core.Precision precision = io.dyndit.core.Precision.parse(a.get("--precision", "tf32"));
        long seed = seed(a.get("--seed", "0"));
        GenerationRequest.Builder request = GenerationRequest.builder().labels(labels(a.required("--labels")))
                .sampler(SamplerType.parse(a.get("--sampler", "ddpm")))
                .steps(a.integer("--steps", GenerationRequest.DEFAULT_STEPS))
                .cfgScale(a.number("--cfg-scale", GenerationRequest.DEFAULT_CFG_SCALE))
                .eta(a.number("--eta", 0)).seed(seed);
        request.build(); // reject bad values before loading anything
        AtomicOutput.checkWritable(outFile);
        if (npz != null) {
            AtomicOutput.checkWritable(npz);
        }
        boolean trace = a.flag("--trace");
        List<float[]> traced = new ArrayList<>();
        if (trace) {
            request.inspector(t -> traced.add(t.sample().clone()));
        }
        ConsoleProgressBar bar = System.console() != null ? new ConsoleProgressBar(err, "sampling") : null;
        request.progress(bar != null ? bar : ProgressListener.NONE);

        GenerationResult result;
        GenerationRequest r;
        io.dyndit.model.DiTConfig staticConfig;
        try (DiTModel model = DiTModel.load(weights, io.dyndit.model.ModelOptions.builder().config(a.optionalPath("--config")).device(device)
                .staticModel(a.flag("--static")).build());
                InjectedNoise injected = a.has("--noise") ? InjectedNoise.open(a.path("--noise"), seed) : null) {
            if (injected != null) {
                request.noise(injected);
            }
            model.precision(precision);
            staticConfig = model.config();
            r = request.build();
            try {
                result = new DiffusionSampler(model.denoiser(flexiSchedule(a, model, r.steps()))).generate(r);
            } finally {
                if (bar != null) {
                    bar.finish();
                }
            }
        }
        long[] shape = result.shape();
        SafetensorsWriter st = new SafetensorsWriter().addFloats("samples", shape, result.samples())
                .putMetadata("sampler", r.sampler().cliName()).putMetadata("steps", Integer.toString(r.steps()))
                .putMetadata("cfg_scale", Double.toString(r.cfgScale())).putMetadata("eta", Double.toString(r.eta()))
                .putMetadata("labels", Arrays.toString(r.labels()))
                .putMetadata("noise", a.has("--noise") ? a.get("--noise", "") : "seed " + seed);
        long batch = r.guided() ? 2 * shape[0] : shape[0];
        for (int k = 0; k < traced.size(); k++) {
            st.addFloats("step." + k + ".sample", new long[] {batch, shape[1], shape[2], shape[3]}, traced.get(k));
        }
        AtomicOutput.write(outFile, st::write);
        io.dyndit.vae.DecodedImages images = null;
        if (a.has("--vae")) {
            try (io.dyndit.vae.VaeDecoder vae = io.dyndit.vae.VaeDecoder.load(a.path("--vae"), a.optionalPath("--vae-config"),
                    device)) {
                images = vae.decodeLatents(result.samples(), shape);
            }
            writeImages(images, a.optionalPath("--png"), out);
        }
        if (npz != null) {
            NpzWriter w = new NpzWriter();
            if (images != null) { // the ADM evaluator's layout: arr_0 = NHWC uint8 images
                w.addUnsignedBytes("arr_0", new long[] {images.n(), images.height(), images.width(), 3},
                        images.uint8Nhwc());
            } else {
                w.addFloats("arr_0", shape, result.samples());
            }
            w.addLongs("labels", new long[] {shape[0]}, r.labels()).write(npz);
        }
        report(out, r, result, device, outFile, npz, trace);
        if (a.flag("--per-step")) {
            double perStatic = result.staticMacs() / Math.max(1, result.steps().size());
            var cfg = staticConfig;
            long rows = (r.guided() ? 2L : 1L) * r.labels().length * cfg.tokens();
            double d = cfg.hiddenSize();
            double staticAttn = rows * 4 * d * d + (rows / cfg.tokens()) * 2.0 * cfg.tokens() * cfg.tokens() * d;
            double staticMlp = rows * 2 * d * cfg.mlpHidden();
            out.println("  step  timestep  seconds   GMACs   of static   per block: attention%/MLP% of static");
            for (io.dyndit.sampling.StepStats ss : result.steps()) {
                StringBuilder blocks = new StringBuilder();
                for (int b = 0; b < ss.attnMacs().length; b++) {
                    blocks.append(String.format(Locale.ROOT, " %.0f/%.0f", 100 * ss.attnMacs()[b] / staticAttn,
                            100 * ss.mlpMacs()[b] / staticMlp));
                }
                out.printf(Locale.ROOT, "  %4d  %8d  %7.3f  %7.3f  %6.1f%%%s%n", ss.step(), ss.timestep(), ss.seconds(),
                        ss.macs() / 1e9, 100 * ss.macs() / perStatic, blocks);
            }
        }
        return 0;
    }

    /** One PNG per image and a grid of the batch into {@code dir} (if given). */
    static void writeImages(io.dyndit.vae.DecodedImages images, Path dir, PrintStream out) {
        if (dir == null) {
            return;
        }
        byte[] nhwc = images.uint8Nhwc();
        var files = io.dyndit.vae.PngImages.writeEach(dir, nhwc, images.n(), images.height(), images.width());
        Path grid = dir.resolve("grid.png");
        io.dyndit.vae.PngImages.writeGrid(grid, nhwc, images.n(), images.height(), images.width(),
                (int) Math.ceil(Math.sqrt(images.n())));
        out.printf("  wrote %d PNG image(s) %dx%d and %s%n", files.size(), images.width(), images.height(), grid);
    }

    /** FlexiDiT patch schedule from --flexi-patch/--flexi-steps/--flexi-guidance-steps or --flexi-budget; null if none. */
    private static io.dyndit.model.FlexiSchedule flexiSchedule(Args a, DiTModel model, int steps) throws UsageException {
        double weak = a.number("--weak-cfg-scale", Double.NaN);
        int q = a.integer("--flexi-patch", 2 * model.config().patchSize());
        if (a.has("--flexi-budget")) {
            if (a.has("--flexi-steps")) {
                throw new UsageException("give --flexi-steps or --flexi-budget, not both");
            }
            return io.dyndit.model.FlexiSchedule.forBudget(model.config(), q, steps, a.number("--flexi-budget", 1), weak);
        }
        if (!a.has("--flexi-steps")) {
            if (a.has("--flexi-patch")) {
                throw new UsageException("--flexi-patch needs --flexi-steps K_c (or --flexi-budget F)");
            }
            return null;
        }
        int kc = a.integer("--flexi-steps", 0);
        return new io.dyndit.model.FlexiSchedule(q, kc, a.integer("--flexi-guidance-steps", kc), weak);
    }

    private static void report(PrintStream out, GenerationRequest r, GenerationResult g, Device device, Path file,
            Path npz, boolean trace) {
        long[] s = g.shape();
        out.printf(Locale.ROOT, "sampled %d latent(s) [%d,%d,%d] on %s: %s%n", s[0], s[1], s[2], s[3], device, r);
        out.printf(Locale.ROOT, "  %d steps in %.2f s (%.2f steps/s)%n", g.steps().size(), g.seconds(),
                g.stepsPerSecond());
        out.printf(Locale.ROOT, "  compute: %.4g GMACs executed, %.4g GMACs static (%.1f%%)%n", g.executedMacs() / 1e9,
                g.staticMacs() / 1e9, g.staticMacs() > 0 ? 100 * g.executedMacs() / g.staticMacs() : 100.0);
        out.printf("  wrote samples %s%s to %s%n", Arrays.toString(s).replace(" ", ""), trace ? " and step.{k}.sample"
                : "", file);
        if (npz != null) {
            out.printf("  wrote arr_0 (samples) and labels to %s%n", npz);
        }
    }

    private static long[] labels(String text) throws UsageException {
        String[] parts = text.split(",", -1);
        long[] labels = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                labels[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new UsageException("--labels must be comma-separated integers like 3,7, got '" + text + "'");
            }
        }
        return labels;
    }

    private static long seed(String text) throws UsageException {
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw new UsageException("--seed must be an integer, got '" + text + "'");
        }
    }
}
