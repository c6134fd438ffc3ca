package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.Device;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * FlexiDiT x DyDiT / DiffCR: an evaluation at a coarser patch size runs the checkpoint's dynamic plan too. DyDiT's
 * width plan at patch 4 equals the static forward at patch 4 of the same weights with the dropped heads' and MLP
 * groups' output columns zeroed (the official masking: outputs multiplied by 0), and executes exactly the kept
 * units' MACs; DiffCR keeps ceil(ratio x T) of the coarse tokens.
 */
class DynamicAtCoarsePatchTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG; // 8x8 latents, patch 2, D 48, 3 heads, MLP 96

    private static float[] input(Random r, int n) {
        float[] x = new float[n * CFG.inChannels() * CFG.inputSize() * CFG.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** The DiT weights of RandomDyDiT.create(seed) with heads >= keepHeads and groups >= keepGroups masked out. */
    static RandomDiT masked(long seed, int keepHeads, int keepGroups) {
        RandomDiT masked = new RandomDiT(CFG, seed); // the same base weights
        int d = CFG.hiddenSize(), hd = CFG.headDim(), m = CFG.mlpHidden(), gs = m / CFG.numHeads();
        for (int i = 0; i < CFG.depth(); i++) {
            String b = "blocks." + i + ".";
            float[] proj = masked.get(b + "attn.proj.weight").toFloatArray();
            float[] fc2 = masked.get(b + "mlp.fc2.weight").toFloatArray();
            for (int o = 0; o < d; o++) {
                for (int c = keepHeads * hd; c < d; c++) {
                    proj[o * d + c] = 0;
                }
                for (int c = keepGroups * gs; c < m; c++) {
                    fc2[o * m + c] = 0;
                }
            }
            masked.put(b + "attn.proj.weight", proj, d, d).put(b + "mlp.fc2.weight", fc2, d, m);
        }
        return masked;
    }

    @Test
    void dydit_weakGuidanceAcrossPatchSizesEqualsTheMaskedStaticModelsPackedEvaluation() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int n = 2;
        float[] x = input(r, n), t = {444, 444};
        long[] y = {3, 1};
        try (DiTModel dm = DiTModel.load(RandomDyDiT.create(CFG, true, 2, 1, 30, seed), CFG, Device.cpu());
                DiTModel sm = DiTModel.load(masked(seed, 2, 1), CFG, Device.cpu())) {
            DiTModel.Result want = sm.forwardFlexiGuided(x, t, y, 2, 4, 4.0, Double.NaN); // static: packed
            DiTModel.Result got = dm.forwardFlexiGuided(x, t, y, 2, 4, 4.0, Double.NaN);  // dynamic: two forwards
            for (int i = 0; i < want.out().length; i++) {
                assertEquals(want.out()[i], got.out()[i], 1e-5 * Math.max(1, Math.abs(want.out()[i])),
                        "element " + i + " (seed " + seed + ")");
            }
            double d = CFG.hiddenSize(), hd = CFG.headDim(), gs = CFG.mlpHidden() / CFG.numHeads();
            double attn = 0, mlp = 0;
            for (int q : new int[] {2, 4}) { // kept: 2 heads, 1 group; every token runs the MLP (router counted)
                double tq = Math.pow(CFG.inputSize() / (double) q, 2), rows = n * tq;
                attn += rows * 4 * d * 2 * hd + n * 2 * tq * tq * 2 * hd;
                mlp += rows * (d * (d / 16) + d / 16) + rows * 2 * d * gs;
            }
            assertEquals(attn, got.attnMacs()[0], 1e-9);
            assertEquals(mlp, got.mlpMacs()[0], 1e-9);
        }
    }

    @Test
    void theSplitWeakGuidanceEvaluationEqualsThePackedOne() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        float[] x = input(r, 3), t = {250, 250, 250};
        long[] y = {0, 4, 2};
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            DiTModel.Result packed = m.forwardFlexiGuided(x, t, y, 2, 4, 3.0, Double.NaN);
            // block:1 caches nothing but makes the evaluation split into two forwards
            DiTModel.Result split = m.forwardFlexiGuided(x, t, y, 2, 4, 3.0, Double.NaN, CacheSpec.parse("block:1"));
            for (int i = 0; i < packed.out().length; i++) {
                // one GEMM over both branches' rows vs one per branch, varlen vs dense attention: fp32 order only
                assertEquals(packed.out()[i], split.out()[i], 1e-5 * Math.max(1, Math.abs(packed.out()[i])),
                        "element " + i + " (seed " + seed + ")");
            }
            assertEquals(packed.macs(), split.macs(), 1e-9 * packed.macs(), "the same work");
        }
    }

    @Test
    void dydit_widthAtPatch4EqualsTheMaskedStaticModelAtPatch4AndCountsOnlyKeptUnits() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int n = 3, keepHeads = 2, keepGroups = 2, q = 4;
        // token bias +30: every token runs the MLP, so only the width plan changes the result
        RandomDiT dyn = RandomDyDiT.create(CFG, true, keepHeads, keepGroups, 30, seed);
        RandomDiT masked = masked(seed, keepHeads, keepGroups);
        int d = CFG.hiddenSize(), hd = CFG.headDim(), m = CFG.mlpHidden(), gs = m / CFG.numHeads();
        float[] x = input(r, n), t = new float[n];
        java.util.Arrays.fill(t, 321);
        long[] y = {0, 2, CFG.numClasses()};
        try (DiTModel dm = DiTModel.load(dyn, CFG, Device.cpu()); DiTModel sm = DiTModel.load(masked, CFG, Device.cpu())) {
            DiTModel.Result got = dm.call(ctx -> dm.runGroup(ctx, x, t, y, ForwardObserver.NONE, dm.geometry(q)));
            float[] want = sm.forwardAtPatch(x, t, y, q);
            for (int i = 0; i < want.length; i++) {
                // sliced GEMMs sum fewer terms than the zero-padded dense ones: fp32 order differences only
                assertEquals(want[i], got.out()[i], 1e-5 * Math.max(1, Math.abs(want[i])), "element " + i + " (seed " + seed + ")");
            }
            double tq = Math.pow(CFG.inputSize() / (double) q, 2), rows = n * tq, act = keepHeads * hd;
            double router = rows * (d * (d / 16) + d / 16);
            for (int i = 0; i < CFG.depth(); i++) {
                assertEquals(rows * 4 * d * act + n * 2 * tq * tq * act, got.attnMacs()[i], 1e-9, "attention MACs, block " + i);
                assertEquals(router + rows * 2 * d * keepGroups * gs, got.mlpMacs()[i], 1e-9, "MLP MACs, block " + i);
            }
        }
    }

    @Test
    void diffcr_keepsItsRatioOfTheCoarseTokens() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int n = 2, q = 4;
        RandomDiT file = ConcurrencyTest.diffcr(seed);
        float[] ratios = file.get("diffcr.ratios").toFloatArray();
        float[] x = input(r, n), t = {800, 800};
        long[] y = {1, CFG.numClasses()};
        try (DiTModel dm = DiTModel.load(file, CFG, Device.cpu())) {
            DiTModel.Result got = dm.call(ctx -> dm.runGroup(ctx, x, t, y, ForwardObserver.NONE, dm.geometry(q)));
            int tq = (CFG.inputSize() / q) * (CFG.inputSize() / q);
            double d = CFG.hiddenSize();
            for (int i = 0; i < CFG.depth(); i++) {
                int k = (int) Math.max(1, Math.min(tq, Math.ceil((double) ratios[2 * i + 1] * tq))); // t 800: region 1
                assertEquals(n * k, got.trace().topK[i].length, "kept tokens, block " + i + " (seed " + seed + ")");
                double rows = (double) n * k;
                assertEquals(rows * 4 * d * d + n * 2.0 * k * k * d + (double) n * tq * d, got.attnMacs()[i], 1e-9);
                assertEquals(rows * 2 * d * CFG.mlpHidden(), got.mlpMacs()[i], 1e-9);
            }
        }
    }

    /**
     * DyDiT x FlexiDiT weak guidance x caching in one generation, on the CPU and on cuda-emu (device loop, split
     * evaluations on device latents): the two runs agree within the float32 chain bound (1e-3 scaled).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"none", "block:2,order=1", "token:0.5,refresh=2"})
    void dydit_flexi_andCachingCombineAlikeOnCpuAndCudaEmu(String cacheSpec) {
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT file = RandomDyDiT.create(CFG, true, 2, 2, 30, seed);
        FlexiSchedule schedule = new FlexiSchedule(4, 2, 4, Double.NaN); // steps 0-1 both coarse, 2-3 mixed
        float[][] samples = new float[2][];
        String[] devices = {"cpu", "cuda-emu"};
        for (int i = 0; i < 2; i++) {
            try (DiTModel m = DiTModel.load(file, CFG, Device.parse(devices[i])).precision(io.dyndit.core.Precision.FP32)) {
                samples[i] = new io.dyndit.sampling.DiffusionSampler(m.denoiser(schedule, CacheSpec.parse(cacheSpec)))
                        .generate(io.dyndit.sampling.GenerationRequest.builder().labels(1, 3).steps(6).cfgScale(3.0)
                                .sampler(io.dyndit.sampling.SamplerType.DPMPP_2M).seed(seed).build())
                        .samples();
            }
        }
        for (int j = 0; j < samples[0].length; j++) {
            assertEquals(samples[0][j], samples[1][j], 1e-3 * Math.max(1, Math.abs(samples[0][j])),
                    cacheSpec + " element " + j + " (seed " + seed + ")");
        }
    }
}
