package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Precision;
import io.dyndit.core.Tensor;
import io.dyndit.sampling.Denoiser;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.SamplerType;
import io.dyndit.sampling.StepStats;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * block:N,order=1 (first-order extrapolation of the cached branch outputs) and token:F[,refresh=N] (ToCa-like token
 * caching): the extrapolation formula against a double reference, the token selection rule against a naive one,
 * cached steps on unchanged inputs reproducing the computed step, and executed MACs equal to an independent count.
 */
class CacheOrderAndTokenTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    @Test
    void orderOneExtrapolatesTheLastTwoFullStepsLinearly() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            int n = 2;
            ForwardWorkspace ws = new ForwardWorkspace(CFG, m.geometry(CFG.patchSize()), Device.cpu(), n);
            long t = CFG.tokens(), d = CFG.hiddenSize(), rows = n * t;
            float[] a0 = gaussian(r, (int) (rows * d)), a4 = gaussian(r, (int) (rows * d));
            try (ForwardCache cache = new ForwardCache(CacheSpec.parse("block:4,order=1"), ws, CFG, Device.cpu());
                    Tensor t0 = Tensor.of(a0, n, t, d); Tensor t4 = Tensor.of(a4, n, t, d);
                    Tensor scratch = Tensor.zeros(Device.cpu(), io.dyndit.core.DType.F32, n, t, d)) {
                for (int step = 0; step < 8; step++) {
                    boolean full = cache.fullStep();
                    assertEquals(step % 4 == 0, full, "step " + step);
                    if (full) {
                        cache.keepAttn(0, step == 0 ? t0 : t4, rows, d);
                        cache.blocksFilled();
                    } else if (step < 4) { // one full step behind: reused as is
                        assertArrayEquals(a0, cache.attnOut(0, scratch, rows, d).toFloatArray(), "step " + step);
                    } else {
                        float[] got = cache.attnOut(0, scratch, rows, d).toFloatArray();
                        double c = (step - 4) / 4.0;
                        for (int i = 0; i < got.length; i++) {
                            double want = a4[i] + c * ((double) a4[i] - a0[i]);
                            // three fp32 roundings of terms bounded by |a4| + c(|a4| + |a0|)
                            double bound = 4 * 0x1p-24 * (Math.abs(a4[i]) * (1 + c) + c * Math.abs(a0[i]));
                            assertEquals(want, got[i], bound, "step " + step + " element " + i + " (seed " + seed + ")");
                        }
                    }
                }
            } finally {
                ws.close();
            }
        }
    }

    private static float[] gaussian(Random r, int count) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }

    @Test
    void tokenSelectionTakesTheHighestScoresWithLowerIndexOnTiesAndTracksStaleness() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int n = 3, t = 29, k = 7;
        float[] imp = new float[n * t];
        for (int i = 0; i < imp.length; i++) {
            imp[i] = r.nextInt(4) == 0 ? 1f : r.nextFloat() * 2; // many exact ties at 1.0
        }
        int[] stale = new int[n * t];
        for (int i = 0; i < stale.length; i++) {
            stale[i] = r.nextInt(3);
        }
        int[] before = stale.clone(), out = new int[n * k];
        double perStep = 1.0 / 3;
        TokenCache.select(imp, stale, n, t, k, perStep, new long[t], out);
        for (int s = 0; s < n; s++) {
            final int sample = s;
            Integer[] order = new Integer[t];
            Arrays.setAll(order, j -> j);
            // the same float scores as the rule, ranked naively
            Arrays.sort(order, (x, y) -> {
                float sx = (float) (imp[sample * t + x] + before[sample * t + x] * perStep);
                float sy = (float) (imp[sample * t + y] + before[sample * t + y] * perStep);
                return sx != sy ? Float.compare(sy, sx) : Integer.compare(x, y);
            });
            int[] want = new int[k];
            for (int i = 0; i < k; i++) {
                want[i] = s * t + order[i];
            }
            Arrays.sort(want);
            assertArrayEquals(want, Arrays.copyOfRange(out, s * k, (s + 1) * k), "sample " + s + " (seed " + seed + ")");
            for (int j = 0; j < t; j++) {
                boolean picked = Arrays.binarySearch(want, s * t + j) >= 0;
                assertEquals(picked ? 0 : before[s * t + j] + 1, stale[s * t + j], "staleness of token " + j);
            }
        }
    }

    /** Evaluates the same inputs twice in one generation: the second evaluation is a cached step. */
    private static Denoiser.Evaluation[] twice(DiTModel m, CacheSpec spec, long seed) {
        Random r = new Random(seed);
        float[] x = gaussian(r, 4 * CFG.inChannels() * CFG.inputSize() * CFG.inputSize());
        long[] y = {1, 4, CFG.numClasses(), CFG.numClasses()};
        Denoiser d = m.denoiser(null, spec);
        try (Denoiser.Reservation held = d.reserve()) {
            return new Denoiser.Evaluation[] {d.evaluate(x, y, 0, 640, 3.0), d.evaluate(x, y, 1, 640, 3.0)};
        }
    }

    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void aTokenCachedStepOnTheSameInputsReproducesTheComputedOneAndCountsItsWork(String device) {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.parse(device)).precision(Precision.FP32)) {
            Denoiser.Evaluation[] e = twice(m, CacheSpec.parse("token:0.25"), seed);
            float[] a = e[0].output(), b = e[1].output();
            for (int i = 0; i < a.length; i++) {
                // the chosen tokens are recomputed from the same inputs (GEMMs over fewer rows may round differently)
                assertEquals(a[i], b[i], 1e-5 * Math.max(1, Math.abs(a[i])), "element " + i + " (seed " + seed + ")");
            }
            double n = 4, t = CFG.tokens(), d = CFG.hiddenSize(), mh = CFG.mlpHidden(), pp = CFG.patchSize() * CFG.patchSize();
            double k = Math.ceil(0.25 * t), depth = CFG.depth();
            double embed = n * t * d * CFG.inChannels() * pp + n * (256 * d + d * d);
            double fin = n * 2 * d * d + n * t * d * pp * CFG.outChannels();
            double block = n * 6 * d * d + n * k * 4 * d * d + 2 * n * k * t * d + n * k * 2 * d * mh;
            assertEquals(embed + depth * block + fin, e[1].macs(), 1e-9 * e[1].macs(), "cached step");
            // the key mass: summed from the attention's own probabilities on the CPU; CUDA runs Q K^T once more
            double mass = device.equals("cpu") ? 0 : depth * n * t * t * d;
            assertEquals(DiTMacs.total(CFG) * n + mass, e[0].macs(), 1e-9 * e[0].macs(), "full step + the key mass");
        }
    }

    private static GenerationResult run(DiTModel m, CacheSpec cache, long seed) {
        return new DiffusionSampler(m.denoiser(null, cache)).generate(GenerationRequest.builder().labels(1, 3)
                .steps(8).cfgScale(2.5).sampler(SamplerType.DPMPP_2M).seed(seed).build());
    }

    @Test
    void settingsThatCacheNothingAreBitIdenticalToNoCaching() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(RandomDyDiT.create(CFG, true, 2, 2, 0.5, seed), CFG, Device.cpu())) {
            float[] plain = run(m, CacheSpec.NONE, seed).samples();
            for (String s : new String[] {"token:1.0", "token:0.3,refresh=1", "block:1,order=1"}) {
                assertArrayEquals(plain, run(m, CacheSpec.parse(s), seed).samples(), s + " (seed " + seed + ")");
            }
        }
    }

    @Test
    void tokenCachingInAGenerationComputesEveryRefreshStepInFullAndCountsTheRest() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            GenerationResult full = run(m, CacheSpec.NONE, seed);
            GenerationResult tok = run(m, CacheSpec.parse("token:0.5,refresh=3"), seed);
            double n = 4, t = CFG.tokens(), d = CFG.hiddenSize(), mh = CFG.mlpHidden(), pp = CFG.patchSize() * CFG.patchSize();
            double k = Math.ceil(0.5 * t), depth = CFG.depth();
            double staticStep = DiTMacs.total(CFG) * n;
            double cached = n * t * d * CFG.inChannels() * pp + n * (256 * d + d * d) + n * 2 * d * d
                    + n * t * d * pp * CFG.outChannels()
                    + depth * (n * 6 * d * d + n * k * 4 * d * d + 2 * n * k * t * d + n * k * 2 * d * mh);
            double want = 0;
            for (int step = 0; step < 8; step++) {
                StepStats s = tok.steps().get(step);
                // the CPU takes the key mass from the attention's own probabilities: no MACs beyond the static step
                double w = step % 3 == 0 ? staticStep : cached;
                assertEquals(w, s.macs(), 1e-9 * w, "step " + step);
                want += w;
            }
            assertEquals(want, tok.executedMacs(), 1e-9 * want);
            assertEquals(staticStep * 8, full.executedMacs(), 1e-9 * want);
            GenerationResult again = run(m, CacheSpec.parse("token:0.5,refresh=3"), seed);
            assertArrayEquals(tok.samples(), again.samples(), "each generation starts with an empty cache");
            assertNotEquals(Arrays.hashCode(full.samples()), Arrays.hashCode(tok.samples()), "cached steps differ");
        }
    }

    /**
     * A context keeps its cache buffers for the next generation: whatever ran before (another seed through the same
     * cache, an uncached generation), a generation equals the same one on a freshly loaded model, bit for bit.
     */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"token:0.5,refresh=3", "block:2,order=1", "step:0.3"})
    void aCacheReusedAcrossGenerationsStartsEmpty(String spec) {
        long seed = io.dyndit.testing.Seeds.fresh();
        CacheSpec cache = CacheSpec.parse(spec);
        GenerationResult fresh;
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            fresh = run(m, cache, seed);
        }
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            GenerationResult other = run(m, cache, seed + 1);
            run(m, CacheSpec.NONE, seed + 2);
            GenerationResult again = run(m, cache, seed);
            assertEquals(1, m.executionContexts(), "one context served every generation");
            assertArrayEquals(fresh.samples(), again.samples(), spec + " after other generations (seed " + seed + ")");
            assertNotEquals(Arrays.hashCode(other.samples()), Arrays.hashCode(again.samples()), "the seeds differ");
            for (int i = 0; i < fresh.steps().size(); i++) {
                assertEquals(fresh.steps().get(i).macs(), again.steps().get(i).macs(), 0.0, "step " + i + " work");
            }
        }
    }

    @Test
    void orderOneChangesTheCachedStepsButNotTheirCost() {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            GenerationResult zero = run(m, CacheSpec.parse("block:2"), seed);
            GenerationResult one = run(m, CacheSpec.parse("block:2,order=1"), seed);
            assertEquals(zero.executedMacs(), one.executedMacs(), 0.0, "extrapolation is elementwise: no GEMM MACs");
            // steps 0-2 equal (the first cached step has one full step behind it); step 3 extrapolates
            assertNotEquals(Arrays.hashCode(zero.samples()), Arrays.hashCode(one.samples()));
        }
    }

    @Test
    void badSpecsAreRefusedNamingTheValue() {
        for (String bad : new String[] {"token:0", "token:1.5", "token:x", "token:0.5,refresh=0", "token:0.5,order=1",
            "block:3,order=2", "block:3,refresh=2", "block:3,order=1,order=1", "step:0.1,order=1", "token:0.5,refresh=x"}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> CacheSpec.parse(bad), bad);
            assertNotEquals(null, e.getMessage());
        }
        CacheSpec t = CacheSpec.parse("token:0.3,refresh=4");
        assertEquals(CacheSpec.Kind.TOKEN, t.kind());
        assertEquals(0.3, t.fraction());
        assertEquals(4, t.interval());
        assertEquals(CacheSpec.DEFAULT_TOKEN_REFRESH, CacheSpec.parse("token:0.3").interval());
        assertEquals(1, CacheSpec.parse("block:3,order=1").order());
        assertEquals(t, CacheSpec.parse(t.toString()));
        assertEquals(CacheSpec.parse("block:3,order=1"), CacheSpec.parse(CacheSpec.parse("block:3,order=1").toString()));
    }
}
