package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Precision;
import io.dyndit.sampling.Denoiser;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.SamplerType;
import io.dyndit.sampling.StepStats;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * Training-free caching (CacheSpec): the settings that cache nothing are the uncached denoiser bit for bit; a cached
 * evaluation of the very inputs of the last computed one reproduces it (the cache holds exactly what those inputs
 * produce); and the executed MACs of reused steps equal an independent count from the config.
 */
class CacheTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    private static GenerationResult run(DiTModel m, CacheSpec cache, SamplerType sampler, long seed) {
        return new DiffusionSampler(m.denoiser(null, cache)).generate(GenerationRequest.builder().labels(1, 3)
                .steps(8).cfgScale(2.5).sampler(sampler).seed(seed).build());
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void settingsThatCacheNothingAreBitIdenticalToNoCaching(String device) {
        long seed = io.dyndit.testing.Seeds.fresh();
        for (RandomDiT file : new RandomDiT[] {new RandomDiT(CFG, seed), RandomDyDiT.create(CFG, true, 2, 2, 0.5, seed),
            ConcurrencyTest.diffcr(seed)}) {
            try (DiTModel m = DiTModel.load(file, CFG, Device.parse(device)).precision(Precision.FP32)) {
                for (SamplerType sampler : new SamplerType[] {SamplerType.DDPM, SamplerType.DPMPP_2M}) {
                    float[] plain = run(m, CacheSpec.NONE, sampler, seed).samples();
                    assertArrayEquals(plain, run(m, CacheSpec.parse("step:0"), sampler, seed).samples(),
                            "step:0 " + sampler + " (seed " + seed + ")");
                    assertArrayEquals(plain, run(m, CacheSpec.parse("block:1"), sampler, seed).samples(),
                            "block:1 " + sampler + " (seed " + seed + ")");
                    assertArrayEquals(plain, run(m, CacheSpec.parse("token:1.0"), sampler, seed).samples(),
                            "token:1.0 " + sampler + " (seed " + seed + ")");
                }
            }
        }
    }

    /**
     * The same in bf16 on the CPU: the uncached forward fuses its epilogues and keeps the MLP hidden in bf16, the
     * caching forwards run them as separate ops; the CPU's fused forms are those ops bit for bit.
     */
    @Test
    void settingsThatCacheNothingAreBitIdenticalToNoCachingInCpuBf16() {
        org.junit.jupiter.api.Assumptions.assumeTrue(io.dyndit.testing.Bf16.cpuRuns(), "no bf16 on this CPU");
        long seed = io.dyndit.testing.Seeds.fresh();
        for (RandomDiT file : new RandomDiT[] {new RandomDiT(CFG, seed), ConcurrencyTest.diffcr(seed)}) {
            try (DiTModel m = DiTModel.load(file, CFG, Device.cpu()).precision(Precision.BF16)) {
                float[] plain = run(m, CacheSpec.NONE, SamplerType.DPMPP_2M, seed).samples();
                for (String spec : new String[] {"step:0", "block:1", "token:1.0"}) {
                    assertArrayEquals(plain, run(m, CacheSpec.parse(spec), SamplerType.DPMPP_2M, seed).samples(),
                            spec + " bf16 (seed " + seed + ")");
                }
            }
        }
    }

    /** Evaluates the same inputs twice in one generation: the second evaluation is served from the cache. */
    private static Denoiser.Evaluation[] twice(DiTModel m, CacheSpec spec, long seed) {
        Random r = new Random(seed);
        int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
        float[] x = new float[4 * per];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        long[] y = {1, 4, CFG.numClasses(), CFG.numClasses()};
        Denoiser d = m.denoiser(null, spec);
        try (Denoiser.Reservation held = d.reserve()) {
            return new Denoiser.Evaluation[] {d.evaluate(x, y, 0, 640, 3.0), d.evaluate(x, y, 1, 640, 3.0)};
        }
    }

    @Test
    void aBlockCachedStepOnTheSameInputsReproducesTheComputedOneExactly() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            Denoiser.Evaluation[] e = twice(m, CacheSpec.parse("block:2"), seed);
            assertArrayEquals(e[0].output(), e[1].output(), "seed " + seed);
            double d = CFG.hiddenSize(), n = 4, rows = n * CFG.tokens(), pp = CFG.patchSize() * CFG.patchSize();
            double embed = rows * d * CFG.inChannels() * pp + n * (256 * d + d * d);
            double fin = n * 2 * d * d + rows * d * pp * CFG.outChannels();
            double adaLN = CFG.depth() * n * 6 * d * d;
            assertEquals(embed + adaLN + fin, e[1].macs(), 1e-9 * e[1].macs(), "a reused step runs embed, gates, final");
            assertEquals(DiTMacs.total(CFG) * n, e[0].macs(), 1e-9 * e[0].macs(), "the full step runs everything");
        }
    }

    @Test
    void aStepCachedStepOnTheSameInputsReproducesTheComputedOne() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            Denoiser.Evaluation[] e = twice(m, CacheSpec.parse("step:0.05"), seed);
            float[] a = e[0].output(), b = e[1].output();
            for (int i = 0; i < a.length; i++) {
                // h_embed + fl(h_out − h_embed) differs from h_out by at most an ulp of h: the output by about that
                assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), "element " + i + " (seed " + seed + ")");
            }
            double d = CFG.hiddenSize(), n = 4, rows = n * CFG.tokens(), pp = CFG.patchSize() * CFG.patchSize();
            double embed = rows * d * CFG.inChannels() * pp + n * (256 * d + d * d);
            double fin = n * 2 * d * d + rows * d * pp * CFG.outChannels();
            assertEquals(embed + n * 6 * d * d + fin, e[1].macs(), 1e-9 * e[1].macs(), "reused: embed, probe, final");
            assertEquals(DiTMacs.total(CFG) * n + n * 6 * d * d, e[0].macs(), 1e-9 * e[0].macs(), "computed + probe");
        }
    }

    @Test
    void cachingSkipsStepsInAGenerationAndCountsThem() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            GenerationResult full = run(m, CacheSpec.NONE, SamplerType.DPMPP_2M, seed);
            GenerationResult block = run(m, CacheSpec.parse("block:3"), SamplerType.DPMPP_2M, seed);
            int computed = 0;
            for (StepStats s : block.steps()) {
                computed += s.macs() > 0.5 * full.steps().get(0).macs() ? 1 : 0;
            }
            assertEquals(3, computed, "block:3 over 8 steps computes steps 0, 3, 6");
            assertTrue(block.executedMacs() < 0.5 * full.executedMacs(), block.executedMacs() + " vs " + full.executedMacs());
            GenerationResult again = run(m, CacheSpec.parse("block:3"), SamplerType.DPMPP_2M, seed);
            assertArrayEquals(block.samples(), again.samples(), "each generation starts with an empty cache");
        }
    }

    @Test
    void badSpecsAreRefused() {
        for (String bad : new String[] {"step:-1", "step:x", "block:0", "block:2.5", "tokens:0.5", "step:NaN"}) {
            assertThrows(InvalidArgumentException.class, () -> CacheSpec.parse(bad), bad);
        }
        assertEquals(CacheSpec.Kind.BLOCK, CacheSpec.parse("BLOCK:4").kind());
    }
}
