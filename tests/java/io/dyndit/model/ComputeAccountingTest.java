package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.Device;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Executed multiply-accumulates equal an independent count from what the plan kept (heads, MLP groups, tokens,
 * top-k, patch size), per block and in total: the figures behind the README's time-vs-MACs ratios. Counting
 * convention (DiTMacs): GEMM-like work only; attention scores and values 2·T²·width per sample.
 */
class ComputeAccountingTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;
    private static final double D = CFG.hiddenSize(), HD = CFG.headDim(), M = CFG.mlpHidden();

    private static float[] latents(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n * CFG.inChannels() * CFG.inputSize() * CFG.inputSize()];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        return x;
    }

    /** Embeddings + final layer at patch p for n samples (T tokens). */
    private static double ends(int n, int p) {
        double t = Math.pow(CFG.inputSize() / p, 2), pp = (double) p * p;
        return n * (t * D * CFG.inChannels() * pp + 256 * D + D * D) + n * (2 * D * D + t * D * pp * CFG.outChannels());
    }

    private static void assertMacs(double want, double got, String what) {
        assertEquals(want, got, 1e-9 * want, what);
    }

    @Test
    void dydit_headsGroupsAndTokensKept() {
        long seed = io.dyndit.testing.Seeds.fresh();
        int n = 3, heads = 2, groups = 1; // v2: unit 0 plus the first router outputs
        double t = CFG.tokens(), gs = M / CFG.numHeads(), h16 = D / 16;
        for (double tokenBias : new double[] {30, -30}) { // every token runs the MLP / none does
            try (DiTModel m = DiTModel.load(RandomDyDiT.create(CFG, true, heads, groups, tokenBias, seed), CFG,
                    Device.cpu())) {
                DiTModel.Result r = m.forwardDetailed(latents(n, seed), new float[] {400, 400, 400}, new long[] {0, 1, 2},
                        ForwardObserver.NONE);
                double kept = tokenBias > 0 ? n * t : 0, a = heads * HD, mg = groups * gs, total = ends(n, 2);
                for (int i = 0; i < CFG.depth(); i++) {
                    double attn = n * t * 4 * D * a + n * 2 * t * t * a;
                    double router = n * t * (D * h16 + h16);
                    double mlp = router + kept * 2 * D * mg;
                    assertMacs(attn, r.attnMacs()[i], "attention of block " + i);
                    assertMacs(mlp, r.mlpMacs()[i], "MLP of block " + i + " (token bias " + tokenBias + ")");
                    total += n * 6 * D * D + attn + mlp;
                }
                assertMacs(total, r.macs(), "DyDiT forward (token bias " + tokenBias + ")");
                assertMacs(DiTMacs.total(CFG) * n, r.staticMacs(), "static");
            }
        }
    }

    @Test
    void diffcr_topKTokensPerBlock() {
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT file = ConcurrencyTest.diffcr(seed);
        int n = 2;
        long timestep = 700;
        try (DiTModel m = DiTModel.load(file, CFG, Device.cpu())) {
            DiTModel.Result r = m.forwardDetailed(latents(n, seed), new float[] {timestep, timestep}, new long[] {3, 4},
                    ForwardObserver.NONE);
            float[] ratios = file.get("diffcr.ratios").toFloatArray();
            int regions = (int) file.get("diffcr.ratios").shape()[1];
            double t = CFG.tokens(), total = ends(n, 2);
            for (int i = 0; i < CFG.depth(); i++) {
                int region = (int) Math.min(regions - 1, timestep * regions / 1000);
                double k = Math.max(1, Math.ceil((double) ratios[i * regions + region] * t));
                double attn = n * k * 4 * D * D + n * 2 * k * k * D + n * t * D; // + the router's scores
                double mlp = n * k * 2 * D * M;
                assertMacs(attn, r.attnMacs()[i], "attention of block " + i + " (k " + k + ")");
                assertMacs(mlp, r.mlpMacs()[i], "MLP of block " + i);
                total += n * 6 * D * D + attn + mlp;
            }
            assertMacs(total, r.macs(), "DiffCR forward");
        }
    }

    @Test
    void flexidit_patchSizeSetsTheTokens() {
        long seed = io.dyndit.testing.Seeds.fresh();
        int n = 2;
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, Device.cpu())) {
            for (int p : new int[] {2, 4, 8}) {
                PatchGeometry g = m.geometry(p);
                DiTModel.Result r = m.call(ctx -> m.runGroup(ctx, latents(n, seed), new float[] {100, 100},
                        new long[] {0, 1}, ForwardObserver.NONE, g));
                double t = Math.pow(CFG.inputSize() / p, 2), total = ends(n, p);
                for (int i = 0; i < CFG.depth(); i++) {
                    total += n * 6 * D * D + n * t * 4 * D * D + n * 2 * t * t * D + n * t * 2 * D * M;
                }
                assertMacs(total, r.macs(), "patch " + p);
            }
        }
    }
}
