package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Paths the golden cases do not reach: explicit flexi.q{q}.* weights with a non-zero patch-size embedding, a DiffCR
 * batch whose samples sit in different timestep regions, and reduced-precision (TF32) runs whose keep/skip decisions
 * must equal the FP32 ones (the routers always run in FP32).
 */
class PlanPathsTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    private static float[] gaussian(Random r, int n, double std) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (r.nextGaussian() * std);
        }
        return v;
    }

    /**
     * A FlexiDiT checkpoint with explicit patch-4 weights and patch-size embedding e, run at patch 4, equals the
     * native patch-4 DiT built from the same tensors (embedder and de-embedder the explicit ones, position embedding
     * the sin-cos table at the coarse centres plus e): the engine's native forward is golden-checked.
     */
    @Test
    void explicitFlexiWeightsWithAPatchEmbeddingEqualTheEquivalentNativeModel() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int q = 4, d = CFG.hiddenSize(), ch = CFG.inChannels(), co = CFG.outChannels(), g = CFG.inputSize() / q;
        RandomDiT flexi = new RandomDiT(CFG, seed);
        float[] pw = gaussian(r, d * ch * q * q, 0.1), pb = gaussian(r, d, 0.1), fw = gaussian(r, q * q * co * d, 0.1);
        float[] fb = gaussian(r, q * q * co, 0.1), e = gaussian(r, d, 0.5);
        flexi.put("flexi.q4.x_embedder.proj.weight", pw, d, ch, q, q).put("flexi.q4.x_embedder.proj.bias", pb, d)
                .put("flexi.q4.final_layer.linear.weight", fw, (long) q * q * co, d)
                .put("flexi.q4.final_layer.linear.bias", fb, (long) q * q * co).put("flexi.q4.patch_embed", e, d);
        DiTConfig c4 = new DiTConfig(CFG.inputSize(), q, ch, d, CFG.depth(), CFG.numHeads(), CFG.mlpRatio(),
                CFG.classDropoutProb(), CFG.numClasses(), CFG.learnSigma());
        RandomDiT nat = new RandomDiT(c4, seed + 1);
        for (String name : flexi.names()) {
            if (!name.startsWith("flexi.") && !name.startsWith("x_embedder.") && !name.startsWith("final_layer.linear")
                    && !name.equals("pos_embed")) {
                nat.put(name, flexi.get(name).toFloatArray(), flexi.get(name).shape());
            }
        }
        float[] pos = PosEmbed.sinCos2d(d, g, q / CFG.patchSize());
        for (int i = 0; i < pos.length; i++) {
            pos[i] += e[i % d];
        }
        nat.put("x_embedder.proj.weight", pw, d, ch, q, q).put("x_embedder.proj.bias", pb, d)
                .put("final_layer.linear.weight", fw, (long) q * q * co, d)
                .put("final_layer.linear.bias", fb, (long) q * q * co).put("pos_embed", pos, 1, (long) g * g, d);
        float[] x = gaussian(r, 2 * ch * CFG.inputSize() * CFG.inputSize(), 1);
        float[] t = {300, 300};
        long[] y = {1, 4};
        try (DiTModel a = DiTModel.load(flexi, CFG, Device.cpu()); DiTModel b = DiTModel.load(nat, c4, Device.cpu())) {
            assertArrayEquals(b.forward(x, t, y), a.forwardAtPatch(x, t, y, q), "seed " + seed);
        }
    }

    /** DiffCR samples at timesteps of different regions: one batch equals each sample run on its own. */
    @Test
    void diffcrBatchWithMixedTimestepsEqualsEachSampleAlone() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize(), outPer = CFG.outChannels() * CFG.inputSize()
                * CFG.inputSize();
        try (DiTModel m = DiTModel.load(ConcurrencyTest.diffcr(seed), CFG, Device.cpu())) {
            float[] x = gaussian(r, 3 * per, 1);
            float[] t = {100, 900, 100};
            long[] y = {0, 2, 4};
            DiTModel.Result all = m.forwardDetailed(x, t, y, ForwardObserver.NONE);
            int rowLen = CFG.depth() * CFG.tokens();
            for (int i = 0; i < 3; i++) {
                DiTModel.Result alone = m.forwardDetailed(Arrays.copyOfRange(x, i * per, (i + 1) * per),
                        new float[] {t[i]}, new long[] {y[i]}, ForwardObserver.NONE);
                float[] one = alone.out();
                assertArrayEquals(alone.trace().tokenSelect, Arrays.copyOfRange(all.trace().tokenSelect, i * rowLen,
                        (i + 1) * rowLen), "tokens kept by sample " + i + " (seed " + seed + ")");
                float[] got = Arrays.copyOfRange(all.out(), i * outPer, (i + 1) * outPer);
                for (int k = 0; k < one.length; k++) { // the batch runs its GEMMs at another M: fp32 summation order
                    assertEquals(one[k], got[k], 1e-5 * Math.max(1, Math.abs(one[k])), "sample " + i + " element " + k
                            + " (seed " + seed + ")");
                }
            }
            assertEquals(CFG.tokens() * 3, all.trace().scores[0].length, "scores of every sample");
        }
    }

    /** On cuda-emu in TF32 the DyDiT masks, token decisions and DiffCR top-k equal the FP32 run's. */
    @Test
    void tf32RunsDecideExactlyAsFp32() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
        float[] x = gaussian(r, 2 * per, 1);
        float[] t = {500, 500};
        long[] y = {1, 3};
        for (RandomDiT file : new RandomDiT[] {RandomDyDiT.create(CFG, true, 2, 2, 0.3, seed),
            ConcurrencyTest.diffcr(seed)}) {
            try (DiTModel m = DiTModel.load(file, CFG, Device.cudaEmulated())) {
                DynamicTrace fp32 = m.precision(Precision.FP32).forwardDetailed(x, t, y, ForwardObserver.NONE).trace();
                DynamicTrace tf32 = m.precision(Precision.TF32).forwardDetailed(x, t, y, ForwardObserver.NONE).trace();
                assertArrayEquals(fp32.attnMasks, tf32.attnMasks, "head masks (seed " + seed + ")");
                assertArrayEquals(fp32.mlpMasks, tf32.mlpMasks, "group masks");
                for (int l = 0; l < CFG.depth(); l++) {
                    if (fp32.topK[l] != null) {
                        assertArrayEquals(fp32.topK[l], tf32.topK[l], "top-k of block " + l + " (seed " + seed + ")");
                    }
                }
                assertEquals(fp32.tokenSelect.length, tf32.tokenSelect.length);
            }
        }
    }
}
