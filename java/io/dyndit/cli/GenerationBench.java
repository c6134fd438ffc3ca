package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.model.CacheSpec;
import io.dyndit.model.DiTConfig;
import io.dyndit.core.Precision;
import io.dyndit.model.DiTModel;
import io.dyndit.model.RandomDiT;
import io.dyndit.sampling.Deviation;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.SamplerType;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.Locale;

/**
 * `bench --sample-steps N`: whole generations of a random-weight preset, the uncached one and the requested one
 * (cache) from the same noise, interleaved in one process; reports the time ratio beside the MAC ratio and the
 * final-latent deviation.
 */
final class GenerationBench {
    private GenerationBench() {}

    /** batch = the forward's batch: with guidance (cfg != 1) batch / 2 images, each run twice ([z; z]). */
    static int run(String name, DiTConfig c, int batch, int steps, SamplerType sampler, double cfg, CacheSpec cache,
            Double budget, int iters, Device device, Precision precision, PrintStream out) throws UsageException {
        boolean guided = cfg != 1.0;
        if (guided && batch % 2 != 0) {
            throw new UsageException("--batch " + batch + " with guidance must be even ([cond; uncond]); give --cfg-scale 1 "
                    + "for an unguided batch");
        }
        long[] labels = new long[guided ? batch / 2 : batch];
        for (int i = 0; i < labels.length; i++) {
            labels[i] = (7L * i + 1) % c.numClasses();
        }
        GenerationRequest r = GenerationRequest.builder().labels(labels).steps(steps).sampler(sampler).cfgScale(cfg)
                .seed(1).build();
        double[] baseS = new double[iters], reqS = new double[iters];
        GenerationResult base = null, req = null;
        try (DiTModel m = ModelLoading.dit(new RandomDiT(c, 7), c, device, false).precision(precision)) {
            DiffusionSampler plain = new DiffusionSampler(m.denoiser(null, CacheSpec.NONE));
            io.dyndit.model.BudgetPlanner.Plan plan = budget == null ? null
                    : m.budgetPlan(sampler, steps, budget);
            if (plan != null) {
                out.printf(Locale.ROOT, "budget %.1f%%: %s%n", 100 * budget, plan);
            }
            DiffusionSampler cached = new DiffusionSampler(plan != null ? m.denoiser(plan.flexi(), plan.cache())
                    : m.denoiser(null, cache));
            new DiffusionSampler(m.denoiser()).generate(GenerationRequest.builder().labels(labels).steps(1)
                    .sampler(SamplerType.DDIM).cfgScale(cfg).build()); // plans the workspace
            for (int i = 0; i < iters; i++) { // interleaved: both see the same machine state
                base = plain.generate(r);
                baseS[i] = base.seconds();
                req = cached.generate(r);
                reqS[i] = req.seconds();
            }
        }
        double tb = median(baseS), tr = median(reqS);
        double macRatio = req.executedMacs() / base.executedMacs(), timeRatio = tr / tb;
        out.printf(Locale.ROOT, "model %s batch %d (%d image(s)%s), %s %d steps, device %s, precision %s, median of %d%n",
                name, batch, labels.length, guided ? ", guided" : "",
                sampler.cliName(), steps, device, precision.name().toLowerCase(Locale.ROOT), iters);
        out.printf(Locale.ROOT, "uncached:  %.2f s, %.1f GMACs%n", tb, base.executedMacs() / 1e9);
        out.printf(Locale.ROOT, "%s: %.2f s, %.1f GMACs%n", budget != null ? "budget " + budget : "cache " + cache, tr,
                req.executedMacs() / 1e9);
        out.printf(Locale.ROOT, "time ratio %.3f at MAC ratio %.3f%n", timeRatio, macRatio);
        out.printf(Locale.ROOT, "deviation: final latents relative L2 %.3g%n", Deviation.relativeL2(req.samples(),
                base.samples()));
        return 0;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}
