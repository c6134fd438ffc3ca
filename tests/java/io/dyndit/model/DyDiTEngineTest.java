package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The skipping engine against the dense double-precision reference with hand-set routers: all heads off,
 * all groups off, every token kept, no token kept, partial masks, v1 and v2. Tolerance 1e-4 max(1,|ref|)
 * as for the golden cases (fp32 engine vs fp64 reference of the same formulas).
 */
class DyDiTEngineTest {
    // D = 48 (3 heads of 16), MLP 96 = 3 groups of 32, 16 tokens
    static final DiTConfig CFG = new DiTConfig(8, 2, 4, 48, 2, 3, 2.0, 0.1, 5, true);

    /** Fresh inputs until every decision has a margin fp32 can resolve (bounded), then compare. */
    private static void check(RandomDiT file, boolean v2, long t, int n) {
        for (int attempt = 0; attempt < 20; attempt++) {
            long seed = io.dyndit.testing.Seeds.fresh();
            Random g = new Random(seed);
            float[] x = new float[n * 4 * 8 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) g.nextGaussian();
            long[] y = new long[n];
            for (int i = 0; i < n; i++) y[i] = g.nextInt(6);
            if (check(file, v2, t, x, y, seed)) {
                return;
            }
        }
        throw new AssertionError("20 input draws all had a decision within 1e-3 of the threshold");
    }

    /** False (nothing compared) when a router or token logit is within 1e-3 of the threshold. */
    private static boolean check(RandomDiT file, boolean v2, long t, float[] x, long[] y, long seed) {
        int n = y.length;
        float[] ts = new float[n];
        java.util.Arrays.fill(ts, t);
        DenseReference ref = new DenseReference(CFG, file, true);
        double[] want = ref.forward(x, t, y);
        if (ref.minMargin < 1e-3) {
            return false; // a decision too close to the threshold for fp32 vs fp64 to be compared
        }
        try (DiTModel m = DiTModel.load(file, CFG, Device.cpu())) {
            assertEquals(v2 ? DyDiTRouters.Variant.V2 : DyDiTRouters.Variant.V1, m.planner().variant());
            DiTModel.Result got = m.forwardDetailed(x, ts, y, ForwardObserver.NONE);
            assertArrayEquals(ref.attnMasks, got.trace().attnMasks, "attn masks (seed " + seed + ")");
            assertArrayEquals(ref.mlpMasks, got.trace().mlpMasks, "mlp masks");
            assertArrayEquals(ref.tokenSelect, got.trace().tokenSelect, "token decisions (seed " + seed + ")");
            float[] w = new float[want.length];
            for (int i = 0; i < w.length; i++) w[i] = (float) want[i];
            Golden.assertMatches(w, got.out(), "out (seed " + seed + ")");
        }
        return true;
    }

    @ParameterizedTest(name = "v2={0} heads={1} groups={2} tokenBias={3}")
    @CsvSource({
        "false, 0, 0, 20",   // v1: no head, no group: attention and MLP reduce to their biases
        "false, 3, 0, 20",   // all heads, no MLP group
        "false, 0, 3, 20",   // no head, all groups
        "true, 1, 1, 20",    // v2 minimum: only the always-on unit 0
        "true, 2, 3, 20",    // partial heads, all groups, every token kept
        "true, 3, 2, -20",   // no token runs the MLP in any sample
        "false, 2, 1, 0.3",  // partial everything, token decisions from the random router
    })
    void engineMatchesDenseReference(boolean v2, int heads, int groups, double tokenBias) {
        RandomDiT file = RandomDyDiT.create(CFG, v2, heads, groups, tokenBias, io.dyndit.testing.Seeds.fresh());
        check(file, v2, 321, 3);
    }

    /**
     * Units kept that are not a prefix (heads {0, 2}, groups {1} or {1, 2}): the sliced GEMMs must pick the right
     * rows and columns, not the first k (v2: unit 0 always on, router output j decides unit j + 1).
     */
    @ParameterizedTest(name = "v2={0} head biases {1}, group biases {2}")
    @CsvSource(delimiter = ';', value = {"false; 4,-4,4; -4,4,-4", "true; -4,4; 4,4", "false; -4,4,4; 4,-4,4"})
    void nonPrefixMasksMatchDenseReference(boolean v2, String headBias, String groupBias) {
        RandomDiT file = RandomDyDiT.create(CFG, v2, 1, 1, 0.3, io.dyndit.testing.Seeds.fresh());
        float[] hb = floats(headBias), gb = floats(groupBias);
        for (int i = 0; i < CFG.depth(); i++) {
            file.put("blocks." + i + ".attn_rate.router.bias", hb, hb.length);
            file.put("blocks." + i + ".mlp_rate.router.bias", gb, gb.length);
        }
        try (DiTModel m = DiTModel.load(file, CFG, Device.cpu())) {
            io.dyndit.plan.LayerPlan lp = m.planFor(321).layer(0);
            int[] heads = lp.allHeads() ? new int[0] : lp.heads(), groups = lp.allGroups() ? new int[0] : lp.groups();
            boolean prefix = true;
            for (int k = 0; k < heads.length; k++) {
                prefix &= heads[k] == k;
            }
            for (int k = 0; k < groups.length; k++) {
                prefix &= groups[k] == k;
            }
            assertTrue(!prefix, "the case keeps a non-prefix set: heads " + java.util.Arrays.toString(heads) + " groups "
                    + java.util.Arrays.toString(groups));
        }
        check(file, v2, 321, 3);
    }

    private static float[] floats(String csv) {
        String[] p = csv.split(",");
        float[] v = new float[p.length];
        for (int i = 0; i < p.length; i++) {
            v[i] = Float.parseFloat(p[i].trim());
        }
        return v;
    }

    @Test
    void zeroKeptTokensInOneSampleOnly() {
        // search random routers until one sample keeps no token while another keeps some
        for (int attempt = 0; attempt < 200; attempt++) {
            long seed = io.dyndit.testing.Seeds.fresh();
            RandomDiT file = RandomDyDiT.create(CFG, true, 2, 2, -1.2, seed);
            DenseReference ref = new DenseReference(CFG, file, true);
            float[] x = new float[2 * 4 * 8 * 8];
            Random g = new Random(seed);
            for (int i = 0; i < x.length; i++) x[i] = (float) (g.nextGaussian() * (i < x.length / 2 ? 1 : 3));
            ref.forward(x, 500, new long[] {1, 2});
            int tok = CFG.tokens(), l = CFG.depth();
            int kept0 = 0, kept1 = 0;
            for (int i = 0; i < tok; i++) {
                kept0 += (int) ref.tokenSelect[i];           // sample 0, layer 0
                kept1 += (int) ref.tokenSelect[l * tok + i]; // sample 1, layer 0
            }
            if (kept0 == 0 && kept1 > 0 && ref.minMargin > 1e-3) {
                assertTrue(check(file, true, 500, x, new long[] {1, 2}, seed));
                return;
            }
        }
        throw new AssertionError("no router drew a batch with one empty sample in 200 tries");
    }

    @Test
    void staticRunOfADyDiTCheckpointIsThePlainDiT() {
        RandomDiT file = RandomDyDiT.create(CFG, true, 1, 1, -20, 9);
        float[] x = new float[2 * 4 * 8 * 8];
        Random g = new Random(io.dyndit.testing.Seeds.fresh());
        for (int i = 0; i < x.length; i++) x[i] = (float) g.nextGaussian();
        double[] want = new DenseReference(CFG, file, false).forward(x, 77, new long[] {0, 5});
        try (DiTModel m = DiTModel.load(file, CFG, ModelOptions.builder().staticModel(true).build())) {
            assertTrue(!m.isDynamic());
            float[] w = new float[want.length];
            for (int i = 0; i < w.length; i++) w[i] = (float) want[i];
            Golden.assertMatches(w, m.forward(x, new float[] {77, 77}, new long[] {0, 5}), "static out");
        }
    }

    /**
     * A token-routed MLP that keeps every token runs densely; it gives the bits the gather / LayerNorm-rows / scatter
     * path gives, in fp32 and in bf16 (where the CPU runs it), at partial and full width.
     */
    @ParameterizedTest(name = "groups={0} {1}")
    @CsvSource({"2, FP32", "3, FP32", "2, BF16", "3, BF16"})
    void everyTokenKeptRunsDenselyWithTheGatherPathsBits(int groups, io.dyndit.core.Precision precision) {
        assumeCpuRuns(precision);
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT file = RandomDyDiT.create(CFG, true, 2, groups, 20, seed);
        float[] x = twoLatents(seed);
        try (DiTModel m = DiTModel.load(file, CFG, Device.cpu()).precision(precision)) {
            float[] dense = m.forward(x, new float[] {300, 300}, new long[] {1, 4});
            float[] gathered;
            ForwardPass.denseWhenAllKept = false;
            try {
                gathered = m.forward(x, new float[] {300, 300}, new long[] {1, 4});
            } finally {
                ForwardPass.denseWhenAllKept = true;
            }
            assertArrayEquals(gathered, dense, "seed " + seed);
        }
    }

    /**
     * Unobserved, width-sliced blocks run the fused sliced linears (GELU on the fc1 slice, gated residual on the proj
     * and fc2 slices); observed, the separate ops and branch outputs: the same bits, in fp32 and in bf16, with every
     * token kept (dense MLP) and with the router's own decisions (gathered tokens).
     */
    @ParameterizedTest(name = "tokenBias={0} {1}")
    @CsvSource({"20, FP32", "0.3, FP32", "20, BF16", "0.3, BF16"})
    void fusedSlicedOpsGiveTheSeparateOpsBits(double tokenBias, io.dyndit.core.Precision precision) {
        assumeCpuRuns(precision);
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT file = RandomDyDiT.create(CFG, true, 2, 2, tokenBias, seed);
        float[] x = twoLatents(seed);
        float[] ts = {300, 300};
        long[] y = {1, 4};
        try (DiTModel m = DiTModel.load(file, CFG, Device.cpu()).precision(precision)) {
            int[] seen = {0};
            DiTModel.Result fused = m.forwardDetailed(x, ts, y, ForwardObserver.NONE);
            DiTModel.Result parts = m.forwardDetailed(x, ts, y, (name, t) -> seen[0]++);
            assertTrue(seen[0] > 0, "the observer saw the branch outputs");
            assertTrue(fused.macs() < 0.99 * fused.staticMacs(), "a width-sliced plan ran");
            assertArrayEquals(parts.out(), fused.out(), "seed " + seed);
        }
    }

    private static void assumeCpuRuns(io.dyndit.core.Precision precision) {
        org.junit.jupiter.api.Assumptions.assumeTrue(
                precision != io.dyndit.core.Precision.BF16 || io.dyndit.testing.Bf16.cpuRuns(), "no bf16 on this CPU");
    }

    /** Two samples' latents [2,4,8,8] from the seed. */
    private static float[] twoLatents(long seed) {
        Random g = new Random(seed);
        float[] x = new float[2 * 4 * 8 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) g.nextGaussian();
        return x;
    }
}
