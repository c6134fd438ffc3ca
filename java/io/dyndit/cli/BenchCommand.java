package io.dyndit.cli;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Ops;
import io.dyndit.core.Precision;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import io.dyndit.model.DiTModel;
import io.dyndit.model.RandomDiT;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * `dyndit bench`: median time of a forward of a random-weight preset, its GFLOP/s, and that rate as a
 * fraction of the SGEMM rate measured in the same run (the model's fc1 shape).
 */
@Command(name = "bench", sortOptions = false,
        description = "Forward speed of a random-weight preset vs the machine's SGEMM rate (--vae: SD-VAE decode).")
final class BenchCommand extends CliCommand {
    @Option(names = "--model", paramLabel = "NAME", description = "preset, e.g. DiT-S/2 (required unless --vae)")
    String model;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "8", description = "batch size (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--input-size", paramLabel = "I", defaultValue = "32", description = "latent size (default: ${DEFAULT-VALUE})")
    int inputSize;

    @Option(names = "--iters", paramLabel = "N", description = "timed runs (default: 10; --vae: 3, at least 3)")
    Integer iters;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "2", description = "untimed runs first (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (default: the library's choice)")
    Integer threads;

    @Option(names = "--device", paramLabel = "DEV", defaultValue = "cpu", converter = Converters.DeviceValue.class,
            description = "cpu, cuda, cuda:N or cuda-emu (default: ${DEFAULT-VALUE})")
    Device device;

    @Option(names = "--precision", paramLabel = "P", defaultValue = "tf32", converter = Converters.PrecisionValue.class,
            description = "matrix products: tf32, fp32 or bf16 (default: ${DEFAULT-VALUE}; the CPU: tf32 = fp32, bf16 "
                    + "for the linears; --vae: for its 3x3 convolutions and attention linears too)")
    Precision precision;

    @Option(names = "--dydit-width", paramLabel = "F", description = "DyDiT v2: fraction of heads and MLP groups kept")
    Double dyditWidth;

    @Option(names = "--dydit-token-bias", paramLabel = "B", defaultValue = "20",
            description = "DyDiT token router output bias (20 keeps every token; default: ${DEFAULT-VALUE})")
    double dyditTokenBias;

    @Option(names = "--diffcr-ratio", paramLabel = "R", description = "DiffCR: fraction of tokens every block keeps")
    Double diffcrRatio;

    @Option(names = "--flexi-patch", paramLabel = "Q", description = "FlexiDiT: time a forward at patch size Q")
    Integer flexiPatch;

    @Option(names = "--vae", description = "time the SD-VAE decoder instead (full-size structure, random weights)")
    boolean vae;

    @Option(names = "--image-size", paramLabel = "PX", defaultValue = "256", description = "--vae: image size (default: ${DEFAULT-VALUE})")
    int imageSize;

    @Option(names = "--sample-steps", paramLabel = "N",
            description = "time whole generations of N steps: uncached vs --cache, from the same noise")
    Integer sampleSteps;

    @Option(names = "--sampler", paramLabel = "S", defaultValue = "dpm++2m", converter = Converters.SamplerValue.class,
            description = "--sample-steps: sampler (default: ${DEFAULT-VALUE})")
    io.dyndit.sampling.SamplerType sampler;

    @Option(names = "--cache", paramLabel = "SPEC", defaultValue = "none", converter = Converters.CacheValue.class,
            description = "--sample-steps: step:THRESHOLD, block:N[,order=1] or token:FRACTION[,refresh=N] "
                    + "(default: ${DEFAULT-VALUE})")
    io.dyndit.model.CacheSpec cache;

    @Option(names = "--budget", paramLabel = "F", description = "--sample-steps: the schedule that spends F of the static "
            + "compute (instead of --cache)")
    Double budget;

    @Option(names = "--cfg-scale", paramLabel = "S", defaultValue = "4",
            description = "--sample-steps: guidance scale; the batch is then [cond; uncond] (default: ${DEFAULT-VALUE})")
    double cfgScale;

    @Override
    public Integer call() throws UsageException {
        PrintStream out = console.out;
        if (vae) {
            if (imageSize < 1 || imageSize % io.dyndit.vae.VaeConfig.stableDiffusion().upscale() != 0) {
                throw new UsageException("--image-size must be a positive multiple of "
                        + io.dyndit.vae.VaeConfig.stableDiffusion().upscale());
            }
            return vae(out);
        }
        if (model == null) {
            throw new UsageException("missing --model (or give --vae)");
        }
        int iters = this.iters != null ? this.iters : 10;
        if (batch < 1 || iters < 1 || warmup < 0) {
            throw new UsageException("--batch and --iters must be >= 1, --warmup >= 0");
        }
        if (diffcrRatio != null && !(diffcrRatio > 0 && diffcrRatio <= 1)) {
            throw new UsageException("--diffcr-ratio must be in (0, 1]");
        }
        if (dyditWidth != null && !(dyditWidth >= 0 && dyditWidth <= 1)) {
            throw new UsageException("--dydit-width must be in [0, 1]");
        }
        if (threads != null && threads < 0) {
            throw new UsageException("--threads must be >= 0");
        }
        DiTConfig c = DiTConfig.preset(model, inputSize);
        if (threads != null) {
            LibraryInfo.setThreads(threads);
        }
        LibraryInfo info = LibraryInfo.query();
        Random r = new Random(1);
        int per = c.inChannels() * c.inputSize() * c.inputSize();
        if ((long) batch * per > Integer.MAX_VALUE - 8) {
            throw new UsageException("--batch " + batch + " is out of range for " + model + ": the latents alone would be "
                    + (long) batch * per + " values (at most " + (Integer.MAX_VALUE - 8) / per + " samples)");
        }
        float[] x = new float[batch * per];
        float[] t = new float[batch];
        long[] y = new long[batch];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        for (int i = 0; i < batch; i++) {
            t[i] = r.nextInt(1000);
            y[i] = r.nextInt(c.numClasses());
        }
        if (sampleSteps != null) {
            if (sampleSteps < 1 || !(cfgScale >= 1) || Double.isInfinite(cfgScale)) {
                throw new UsageException("--sample-steps must be >= 1 and --cfg-scale a finite number >= 1");
            }
            if (budget != null && (cache.kind() != io.dyndit.model.CacheSpec.Kind.NONE || !(budget > 0 && budget <= 1))) {
                throw new UsageException("--budget takes a fraction in (0, 1] and replaces --cache");
            }
            return GenerationBench.run(model, c, batch, sampleSteps, sampler, cfgScale, cache, budget,
                    this.iters != null ? this.iters : 3, device, precision, out);
        }
        if (flexiPatch != null) {
            return flexi(c, iters, x, t, y, out);
        }
        if (dyditWidth != null || diffcrRatio != null) {
            return dynamic(c, iters, x, t, y, out);
        }
        // Forward and GEMM timings interleaved, so all medians see the same machine state. The GEMMs are the model's
        // fc1 shape through the same oneDNN matmul the forward uses: fp32 always, bf16 where the CPU has it.
        long m = (long) batch * c.tokens();
        Roofline fp32 = new Roofline(Precision.FP32, m, c.mlpHidden(), c.hiddenSize(), iters);
        Roofline bf16 = Roofline.bf16Available() ? new Roofline(Precision.BF16, m, c.mlpHidden(), c.hiddenSize(), iters)
                : null;
        double[] ms = new double[iters];
        try (DiTModel model = ModelLoading.dit(new RandomDiT(c, 7), c, device, false); Scope s = Scope.open()) {
            model.precision(precision);
            Tensor gx = s.zeros(Device.cpu(), DType.F32, m, c.hiddenSize());
            Tensor gw = s.zeros(Device.cpu(), DType.F32, c.mlpHidden(), c.hiddenSize());
            Tensor gy = s.empty(Device.cpu(), DType.F32, m, c.mlpHidden());
            Runnable fwd = () -> model.forward(x, t, y);
            for (int i = 0; i < warmup; i++) {
                fwd.run();
                fp32.time(-1, gx, gw, gy);
                if (bf16 != null) bf16.time(-1, gx, gw, gy);
            }
            for (int i = 0; i < iters; i++) {
                ms[i] = timeMs(fwd);
                fp32.time(i, gx, gw, gy);
                if (bf16 != null) bf16.time(i, gx, gw, gy);
            }
        }
        double median = median(ms);
        double flops = 2 * DiTMacs.total(c) * batch;
        double gflops = flops / (median * 1e6);
        out.printf(Locale.ROOT, "model %s batch %d (%d tokens), %d threads, kernels %s, device %s, precision %s%n", model,
                batch, c.tokens(), info.threads(), info.kernelIsa(), device, precision.name().toLowerCase(Locale.ROOT));
        out.printf(Locale.ROOT, "forward: median %.1f ms over %d runs (min %.1f, max %.1f)%n", median, iters,
                Arrays.stream(ms).min().orElse(0), Arrays.stream(ms).max().orElse(0));
        out.printf(Locale.ROOT, "achieved: %.1f GFLOP/s (%.2f GMACs per sample)%n", gflops, DiTMacs.total(c) / 1e9);
        out.printf(Locale.ROOT, "sgemm:    %s%n", fp32.describe());
        if (bf16 != null) {
            out.printf(Locale.ROOT, "bf16 gemm: %s%n", bf16.describe());
        } else {
            out.printf(Locale.ROOT, "bf16 gemm: not measured (%s)%n", Roofline.bf16Refusal());
        }
        out.printf(Locale.ROOT, "ratio:    %.1f%% of the SGEMM rate%n", 100 * gflops / fp32.rate());
        if (bf16 != null) {
            out.printf(Locale.ROOT, "ratio:    %.1f%% of the bf16 GEMM rate%n", 100 * gflops / bf16.rate());
        }
        return 0;
    }

    /**
     * Random weights plus routers: DyDiT v2 keeping the fraction F of heads and MLP groups (token router random
     * with output bias B; B = 20 keeps every token), or DiffCR keeping the fraction R of tokens in every block.
     * Static and dynamic forwards of the same weights are timed interleaved; the report compares wall time
     * with executed multiply-accumulates.
     */
    private int dynamic(DiTConfig c, int iters, float[] x, float[] t, long[] y, PrintStream out) {
        io.dyndit.model.RandomDiT file;
        String what;
        if (diffcrRatio != null) {
            double ratio = diffcrRatio;
            file = new io.dyndit.model.RandomDiT(c, 7);
            java.util.Random r = new java.util.Random(11);
            for (int i = 0; i < c.depth(); i++) {
                float[] w = new float[c.hiddenSize()];
                for (int j = 0; j < w.length; j++) w[j] = (float) (r.nextGaussian() / Math.sqrt(c.hiddenSize()));
                file.put("blocks." + i + ".diffcr_router.weight", w, 1, c.hiddenSize());
            }
            float[] ratios = new float[c.depth()];
            java.util.Arrays.fill(ratios, (float) ratio);
            file.put("diffcr.ratios", ratios, c.depth(), 1);
            what = String.format(Locale.ROOT, "DiffCR, every block keeps %.0f%% of the tokens", 100 * ratio);
        } else {
            double width = dyditWidth, bias = dyditTokenBias;
            int keep = Math.max(1, (int) Math.round(width * c.numHeads()));
            file = io.dyndit.model.RandomDyDiT.create(c, true, keep, keep, bias, 7);
            what = String.format(Locale.ROOT, "DyDiT v2, %d of %d heads and groups kept, token bias %.1f", keep,
                    c.numHeads(), bias);
        }
        double[] staticMs = new double[iters], dynMs = new double[iters];
        double[] dynMacs = new double[1];
        java.util.Arrays.fill(t, t[0]); // one timestep per batch, as in sampling
        try (DiTModel full = ModelLoading.dit(file, c, device, true).precision(precision);
                DiTModel dyn = ModelLoading.dit(file, c, device, false).precision(precision)) {
            Runnable fs = () -> full.forward(x, t, y);
            Runnable fd = () -> dynMacs[0] = dyn.forwardDetailed(x, t, y, io.dyndit.model.ForwardObserver.NONE).macs();
            for (int i = 0; i < warmup; i++) {
                fs.run();
                fd.run();
            }
            for (int i = 0; i < iters; i++) {
                staticMs[i] = timeMs(fs);
                dynMs[i] = timeMs(fd);
            }
        }
        double ms = median(staticMs), md = median(dynMs);
        double staticMacs = DiTMacs.total(c) * batch;
        out.printf(Locale.ROOT, "model %s (random weights) batch %d: %s%n", model, batch, what);
        out.printf(Locale.ROOT, "static:  median %.1f ms%n", ms);
        out.printf(Locale.ROOT, "dynamic: median %.1f ms, %.1f%% of static MACs executed%n", md, 100 * dynMacs[0] / staticMacs);
        out.printf(Locale.ROOT, "time ratio dynamic/static: %.3f (MAC ratio %.3f)%n", md / ms, dynMacs[0] / staticMacs);
        return 0;
    }

    /** FlexiDiT: a forward at patch size Q against the native patch, same weights, timed interleaved. */
    private int flexi(DiTConfig c, int iters, float[] x, float[] t, long[] y, PrintStream out) {
        int q = flexiPatch;
        double[] nativeMs = new double[iters], flexiMs = new double[iters];
        try (DiTModel m = ModelLoading.dit(new RandomDiT(c, 7), c, device, false).precision(precision)) {
            Runnable fn = () -> m.forward(x, t, y);
            Runnable fq = () -> m.forwardAtPatch(x, t, y, q);
            for (int i = 0; i < warmup; i++) {
                fn.run();
                fq.run();
            }
            for (int i = 0; i < iters; i++) {
                nativeMs[i] = timeMs(fn);
                flexiMs[i] = timeMs(fq);
            }
        }
        double mn = median(nativeMs), mq = median(flexiMs);
        double macRatio = io.dyndit.model.FlexiSchedule.macsAt(c, q) / DiTMacs.total(c);
        out.printf(Locale.ROOT, "model %s (random weights) batch %d: FlexiDiT patch %d vs native %d%n", model,
                batch, q, c.patchSize());
        out.printf(Locale.ROOT, "native:  median %.1f ms (%d tokens)%n", mn, c.tokens());
        out.printf(Locale.ROOT, "patch %d: median %.1f ms (%d tokens)%n", q, mq, (c.inputSize() / q) * (c.inputSize() / q));
        out.printf(Locale.ROOT, "time ratio: %.3f (MAC ratio %.3f)%n", mq / mn, macRatio);
        return 0;
    }

    /**
     * SD-VAE decode (full-size structure 128/256/512/512, random weights) of one image, against the SGEMM rate
     * measured interleaved at a decoder-like shape (the 512-wide 3x3 convolution as a GEMM at 64x64), both in the
     * chosen precision (bf16: oneDNN bf16 convolutions and matmul).
     */
    private int vae(PrintStream out) {
        int size = imageSize, iters = Math.max(3, this.iters != null ? this.iters : 3);
        io.dyndit.vae.VaeConfig c = io.dyndit.vae.VaeConfig.stableDiffusion();
        int latent = size / c.upscale();
        float[] z = new float[c.latentChannels() * latent * latent];
        java.util.Random r = new java.util.Random(3);
        for (int i = 0; i < z.length; i++) z[i] = (float) r.nextGaussian();
        long[] shape = {1, c.latentChannels(), latent, latent};
        double[] ms = new double[iters], gemm = new double[iters];
        long m = 64L * 64, k = 512L * 9, n = 512;
        try (io.dyndit.vae.VaeDecoder decoder = ModelLoading.vae(new io.dyndit.vae.RandomVae(c, 1), c, Device.cpu())
                        .precision(precision);
                Scope s = Scope.open()) {
            Tensor gx = s.zeros(Device.cpu(), DType.F32, m, k), gw = s.zeros(Device.cpu(), DType.F32, n, k);
            Tensor gy = s.empty(Device.cpu(), DType.F32, m, n);
            decoder.decodeLatents(z, shape); // plans the buffers
            for (int i = 0; i < iters; i++) {
                ms[i] = timeMs(() -> decoder.decodeLatents(z, shape));
                Device.cpu().setGemmPrecision(precision); // the decoder set it too; stated for the GEMM alone
                gemm[i] = 2.0 * m * n * k / (timeMs(() -> Ops.linear(gx, gw, null, gy)) * 1e6);
            }
        }
        double macs = io.dyndit.vae.VaeFlops.macsPerSample(c, latent, latent); // takes the latent size
        double med = median(ms), rate = 2 * macs / (med * 1e6), sg = median(gemm);
        String p = precision == Precision.BF16 ? "bf16" : "fp32";
        out.printf(Locale.ROOT, "SD-VAE decode %dx%d (full-size structure, random weights, %s): median %.0f ms, %.1f GMACs%n",
                size, size, p, med, macs / 1e9);
        out.printf(Locale.ROOT, "achieved: %.1f GFLOP/s; %s gemm %.1f GFLOP/s (%d x %d x %d, interleaved): %.1f%%%n", rate,
                p, sg, m, n, k, 100 * rate / sg);
        return 0;
    }

    private static double timeMs(Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
