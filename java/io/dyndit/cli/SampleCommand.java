package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.io.NpzWriter;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.model.DiTModel;
import io.dyndit.sampling.ConsoleProgressBar;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.InjectedNoise;
import io.dyndit.sampling.ProgressListener;
import io.dyndit.sampling.SamplerType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `dyndit sample`: class-conditional generation of latents with the official DDPM/DDIM loop. */
@Command(name = "sample", sortOptions = false,
        description = "Generate latents for class labels (DDPM/DDIM, guidance) and write `samples` [n,C,I,I].")
final class SampleCommand extends CliCommand {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "checkpoint (.safetensors or .pt)")
    Path weights;

    @Option(names = "--config", paramLabel = "FILE", description = "model config JSON (default: inferred from the tensors)")
    Path config;

    @Option(names = "--labels", required = true, paramLabel = "L,L,...", converter = Converters.LabelsValue.class,
            description = "class labels, one sample each (e.g. 207,360)")
    Converters.Labels labels;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors to write (`samples`)")
    Path out;

    @Option(names = "--sampler", paramLabel = "S", defaultValue = "ddpm", converter = Converters.SamplerValue.class,
            completionCandidates = Converters.SamplerNames.class,
            description = "${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    SamplerType sampler;

    @Option(names = "--steps", paramLabel = "N", description = "sampling steps (default: 250 for ddpm, 50 ddim, 25 dpm++)")
    Integer steps;

    @Option(names = "--cache", paramLabel = "SPEC", defaultValue = "none", converter = Converters.CacheValue.class,
            description = "reuse work across steps: none, step:THRESHOLD (residual reuse), block:N[,order=1] (branch "
                    + "reuse every N steps; order=1 extrapolates), token:FRACTION[,refresh=N] (recompute that fraction of "
                    + "tokens between full steps); see docs/caching.md")
    io.dyndit.model.CacheSpec cache;

    @Option(names = "--budget", paramLabel = "F", description = "spend F of the static compute (0, 1]: a schedule of "
            + "coarse-patch steps and block caching is chosen and printed (not with --cache or --flexi-*)")
    Double budget;

    @Option(names = "--report", paramLabel = "DIR", description = "write compute per step: compute.png (executed vs "
            + "static GMACs, seconds) and steps.csv")
    Path report;

    @Option(names = "--compare-static", description = "also run the uncached static schedule from the same noise and "
            + "report the deviation (final latents; decoded images' PSNR with --vae)")
    boolean compareStatic;

    @Option(names = "--cfg-scale", paramLabel = "S", description = "guidance scale; 1 = no guidance (default: "
            + GenerationRequest.DEFAULT_CFG_SCALE + ")")
    Double cfgScale;

    @Option(names = "--eta", paramLabel = "E", defaultValue = "0", description = "DDIM eta (default: ${DEFAULT-VALUE})")
    double eta;

    @Option(names = "--seed", paramLabel = "N", description = "noise seed (default: 0)")
    Long seed;

    @Option(names = "--first-index", paramLabel = "A", description = "label i draws the noise of global sample A + i "
            + "(as `generate` numbers them), to reproduce a shard of a sharded run (default: 0)")
    Long firstIndex;

    @Option(names = "--noise", paramLabel = "FILE", description = "initial noise `z` (and step noise) from safetensors")
    Path noise;

    @Option(names = "--trace", description = "also write every step's sample as step.{k}.sample")
    boolean trace;

    @Option(names = "--npz", paramLabel = "FILE", description = "also write an .npz (ADM evaluator layout with --vae)")
    Path npz;

    @Option(names = "--static", description = "DyDiT/DiffCR checkpoints: run the complete model, routers off")
    boolean staticModel;

    @Option(names = "--per-step", description = "print time and compute of every step")
    boolean perStep;

    @Option(names = "--flexi-patch", paramLabel = "Q", description = "FlexiDiT: weak-model patch size (default: 2x native)")
    Integer flexiPatch;

    @Option(names = "--flexi-steps", paramLabel = "K", description = "FlexiDiT: steps run at the weak patch size")
    Integer flexiSteps;

    @Option(names = "--flexi-guidance-steps", paramLabel = "K",
            description = "FlexiDiT: steps whose guidance half runs weak (default: --flexi-steps)")
    Integer flexiGuidanceSteps;

    @Option(names = "--flexi-budget", paramLabel = "F", description = "FlexiDiT: fraction of the static compute to spend")
    Double flexiBudget;

    @Option(names = "--weak-cfg-scale", paramLabel = "W", description = "FlexiDiT: weak-model guidance scale")
    Double weakCfgScale;

    @Option(names = "--vae", paramLabel = "FILE", description = "SD-VAE decoder checkpoint, to decode the samples")
    Path vae;

    @Option(names = "--vae-config", paramLabel = "FILE", description = "AutoencoderKL config JSON of --vae")
    Path vaeConfig;

    @Option(names = "--png", paramLabel = "DIR", description = "write the decoded images as PNGs (needs --vae)")
    Path png;

    @picocli.CommandLine.Mixin
    DeviceOptions devices;

    @Override
    public Integer call() throws UsageException {
        if (png != null && vae == null) {
            throw new UsageException("--png needs --vae FILE (the SD-VAE decoder checkpoint)");
        }
        if (firstIndex != null && noise != null) {
            throw new UsageException("--first-index numbers the seeded noise: give it with --seed, not --noise");
        }
        if (seed != null && noise != null) {
            throw new UsageException("give either --seed or --noise, not both");
        }
        if (firstIndex != null && (firstIndex < 0 || firstIndex > io.dyndit.sampling.SeededNoise.MAX_INDEX)) {
            throw new UsageException("--first-index must be in 0.." + io.dyndit.sampling.SeededNoise.MAX_INDEX + ", got "
                    + firstIndex);
        }
        if (flexiBudget != null && flexiSteps != null) {
            throw new UsageException("give --flexi-steps or --flexi-budget, not both");
        }
        if (flexiPatch != null && flexiSteps == null && flexiBudget == null) {
            throw new UsageException("--flexi-patch needs --flexi-steps K_c (or --flexi-budget F)");
        }
        if (budget != null && (cache.kind() != io.dyndit.model.CacheSpec.Kind.NONE || flexiPatch != null
                || flexiSteps != null || flexiBudget != null)) {
            throw new UsageException("--budget chooses the schedule itself: give it without --cache and --flexi-*");
        }
        if (budget != null && !(budget > 0 && budget <= 1)) {
            throw new UsageException("--budget must be in (0, 1], got " + budget);
        }
        long seedValue = seed != null ? seed : 0;
        GenerationRequest.Builder request = GenerationRequest.builder().labels(labels.values()).sampler(sampler)
                .steps(steps != null ? steps : sampler.defaultSteps())
                .cfgScale(cfgScale != null ? cfgScale : GenerationRequest.DEFAULT_CFG_SCALE).eta(eta).seed(seedValue);
        if (firstIndex != null) {
            request.noise(io.dyndit.sampling.NoiseSource.seeded(seedValue, firstIndex));
        }
        request.build(); // rejects bad values before anything is loaded
        FileChecks.readable(weights);
        FileChecks.readable(config);
        FileChecks.readable(noise);
        FileChecks.readable(vae);
        FileChecks.readable(vaeConfig);
        FileChecks.writableFile(out);
        FileChecks.writableFile(npz);
        FileChecks.writableDir(png);
        FileChecks.writableDir(report);
        if (vae != null) {
            ModelLoading.checkVae(vae, vaeConfig); // a bad decoder checkpoint is reported before the sampling
        }

        List<float[]> traced = new ArrayList<>();
        if (trace) {
            request.inspector(t -> traced.add(t.sample().clone()));
        }
        ConsoleProgressBar bar = console.showProgress() ? new ConsoleProgressBar(console.err, "sampling") : null;
        request.progress(bar != null ? bar : ProgressListener.NONE);

        GenerationResult result;
        GenerationResult reference = null; // --compare-static
        GenerationRequest r;
        io.dyndit.model.DiTConfig staticConfig;
        try (DiTModel model = ModelLoading.dit(weights, config, devices.device, staticModel);
                InjectedNoise injected = noise != null ? InjectedNoise.open(noise, seedValue) : null) {
            if (injected != null) {
                request.noise(injected);
            }
            model.precision(devices.precision);
            staticConfig = model.config();
            r = request.build();
            try {
                if (budget != null) {
                    io.dyndit.model.BudgetPlanner.Plan plan = model.budgetPlan(r.sampler(), r.steps(), budget);
                    console.info("budget %.1f%%: %s", 100 * budget, plan);
                    for (String row : plan.steps()) {
                        console.info("  %s", row);
                    }
                    result = new DiffusionSampler(model.denoiser(plan.flexi(), plan.cache())).generate(r);
                } else {
                    result = new DiffusionSampler(model.denoiser(flexiSchedule(model, r.steps()), cache)).generate(r);
                }
            } finally {
                if (bar != null) {
                    bar.finish();
                }
            }
            if (compareStatic) { // same request, same noise: no cache, no FlexiDiT schedule, routers off
                GenerationRequest plain = r.withProgress(ProgressListener.NONE);
                if (model.isDynamic()) {
                    try (DiTModel full = ModelLoading.dit(weights, config, devices.device, true)) {
                        full.precision(devices.precision);
                        reference = full.generate(plain);
                    }
                } else {
                    reference = model.generate(plain);
                }
            }
        }
        long[] shape = result.shape();
        SafetensorsWriter st = new SafetensorsWriter().addFloats("samples", shape, result.samples())
                .putMetadata("sampler", r.sampler().cliName()).putMetadata("steps", Integer.toString(r.steps()))
                .putMetadata("cfg_scale", Double.toString(r.cfgScale())).putMetadata("eta", Double.toString(r.eta()))
                .putMetadata("labels", Arrays.toString(r.labels()))
                .putMetadata("noise", noise != null ? noise.toString() : "seed " + seedValue
                        + (firstIndex != null ? " first index " + firstIndex : ""));
        long batch = r.guided() ? 2 * shape[0] : shape[0];
        for (int k = 0; k < traced.size(); k++) {
            st.addFloats("step." + k + ".sample", new long[] {batch, shape[1], shape[2], shape[3]}, traced.get(k));
        }
        io.dyndit.vae.DecodedImages images = null, referenceImages = null;
        if (vae != null) { // decoded before anything is written: a failing decoder leaves no files behind
            try (io.dyndit.vae.VaeDecoder decoder = ModelLoading.vae(vae, vaeConfig, devices.device)) {
                decoder.precision(devices.precision);
                images = decoder.decodeLatents(result.samples(), shape);
                if (reference != null) {
                    referenceImages = decoder.decodeLatents(reference.samples(), shape);
                }
            }
        }
        OutputFiles.safetensors(out, st);
        if (images != null) {
            writeImages(images, png, console);
        }
        if (npz != null) {
            NpzWriter w = new NpzWriter();
            if (images != null) { // the ADM evaluator's layout: arr_0 = NHWC uint8 images
                w.addUnsignedBytes("arr_0", new long[] {images.n(), images.height(), images.width(), 3},
                        images.uint8Nhwc());
            } else {
                w.addFloats("arr_0", shape, result.samples());
            }
            OutputFiles.npz(npz, w.addLongs("labels", new long[] {shape[0]}, r.labels()));
        }
        report(r, result, shape);
        if (report != null) {
            StepReport.write(report, result);
            console.info("  wrote %s and %s", report.resolve("compute.png"), report.resolve("steps.csv"));
        }
        if (reference != null) {
            console.info("  vs the uncached static schedule (%.4g GMACs): final latents relative L2 %.4g%s",
                    reference.executedMacs() / 1e9, io.dyndit.sampling.Deviation.relativeL2(result.samples(),
                            reference.samples()), referenceImages == null ? "" : String.format(java.util.Locale.ROOT,
                            ", decoded images PSNR %.2f dB", io.dyndit.sampling.Deviation.psnr(images.uint8Nhwc(),
                                    referenceImages.uint8Nhwc())));
        }
        if (perStep) {
            printPerStep(r, result, staticConfig);
        }
        return Main.OK;
    }

    /** One PNG per image and a grid of the batch into {@code dir} (if given). */
    static void writeImages(io.dyndit.vae.DecodedImages images, Path dir, Console console) {
        if (dir == null) {
            return;
        }
        PngOutput.write(dir, images, true);
        console.info("  wrote %d PNG image(s) %dx%d and %s", images.n(), images.width(), images.height(),
                dir.resolve("grid.png"));
    }

    /** FlexiDiT patch schedule from --flexi-patch/--flexi-steps/--flexi-guidance-steps or --flexi-budget; null if none. */
    private io.dyndit.model.FlexiSchedule flexiSchedule(DiTModel model, int stepCount) {
        double weak = weakCfgScale != null ? weakCfgScale : Double.NaN;
        int q = flexiPatch != null ? flexiPatch : 2 * model.config().patchSize();
        if (flexiBudget != null) {
            return io.dyndit.model.FlexiSchedule.forBudget(model.config(), q, stepCount, flexiBudget, weak);
        }
        if (flexiSteps == null) {
            return null;
        }
        return new io.dyndit.model.FlexiSchedule(q, flexiSteps,
                flexiGuidanceSteps != null ? flexiGuidanceSteps : flexiSteps, weak);
    }

    private void report(GenerationRequest r, GenerationResult g, long[] s) {
        console.info("sampled %d latent(s) [%d,%d,%d] on %s: %s", s[0], s[1], s[2], s[3], devices.device, r);
        console.info("  %d steps in %.2f s (%.2f steps/s)", g.steps().size(), g.seconds(), g.stepsPerSecond());
        console.info("  compute: %.4g GMACs executed, %.4g GMACs static (%.1f%%)", g.executedMacs() / 1e9,
                g.staticMacs() / 1e9, g.staticMacs() > 0 ? 100 * g.executedMacs() / g.staticMacs() : 100.0);
        console.info("  wrote samples %s%s to %s", Arrays.toString(s).replace(" ", ""), trace ? " and step.{k}.sample" : "",
                out);
        if (npz != null) {
            console.info("  wrote arr_0 (samples) and labels to %s", npz);
        }
    }

    private void printPerStep(GenerationRequest r, GenerationResult result, io.dyndit.model.DiTConfig cfg) {
        double perStatic = result.staticMacs() / Math.max(1, result.steps().size());
        long rows = (r.guided() ? 2L : 1L) * r.labels().length * cfg.tokens();
        double d = cfg.hiddenSize();
        double staticAttn = rows * 4 * d * d + (rows / cfg.tokens()) * 2.0 * cfg.tokens() * cfg.tokens() * d;
        double staticMlp = rows * 2 * d * cfg.mlpHidden();
        console.out.println("  step  timestep  seconds   GMACs   of static   per block: attention%/MLP% of static");
        for (io.dyndit.sampling.StepStats ss : result.steps()) {
            StringBuilder blocks = new StringBuilder();
            for (int b = 0; b < ss.attnMacs().length; b++) {
                blocks.append(String.format(Locale.ROOT, " %.0f/%.0f", 100 * ss.attnMacs()[b] / staticAttn,
                        100 * ss.mlpMacs()[b] / staticMlp));
            }
            console.out.printf(Locale.ROOT, "  %4d  %8d  %7.3f  %7.3f  %6.1f%%%s%n", ss.step(), ss.timestep(), ss.seconds(),
                    ss.macs() / 1e9, 100 * ss.macs() / perStatic, blocks);
        }
    }
}
