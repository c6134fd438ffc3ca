package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.sampling.Denoiser;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.SamplerType;
import org.junit.jupiter.api.Test;

/**
 * A generation's conditioning made ahead (ConditioningTable: its announced timesteps' adaLN rows in one pass over the
 * weights) gives exactly the samples of one whose steps each make their own, for the static, DyDiT and DiffCR models,
 * uncached and with step and token caching, across several windows of the table (4 guided images: 8 rows, 8 steps a
 * window, 20 steps).
 */
class ConditioningTableTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;
    private static final long[] LABELS = {1, 3, 0, 4};

    @Test
    void conditioningMadeAheadGivesEachStepsOwnBits() {
        long seed = io.dyndit.testing.Seeds.fresh();
        for (RandomDiT file : new RandomDiT[] {new RandomDiT(CFG, seed), RandomDyDiT.create(CFG, true, 2, 2, 0.5, seed),
            ConcurrencyTest.diffcr(seed)}) {
            try (DiTModel m = DiTModel.load(file, CFG, Device.cpu()).precision(Precision.FP32)) {
                for (SamplerType sampler : new SamplerType[] {SamplerType.DPMPP_2M, SamplerType.DDPM}) {
                    GenerationRequest r = GenerationRequest.builder().labels(LABELS).steps(20).cfgScale(2.5)
                            .sampler(sampler).seed(seed).build();
                    for (String spec : new String[] {"none", "step:0.3", "token:0.5,refresh=3"}) {
                        Denoiser d = m.denoiser(null, CacheSpec.parse(spec));
                        float[] ahead = new DiffusionSampler(d).generate(r).samples();
                        float[] own = new DiffusionSampler(PlainDenoiser.stepByStep(d)).generate(r).samples();
                        assertArrayEquals(own, ahead, spec + " " + sampler + " (seed " + seed + ")");
                    }
                    // the table was used: it holds the last window, the final step's rows among them
                    long[] ts = DiffusionSampler.modelTimesteps(sampler, 20);
                    long[] y = new long[2 * LABELS.length];
                    System.arraycopy(LABELS, 0, y, 0, LABELS.length);
                    java.util.Arrays.fill(y, LABELS.length, y.length, CFG.numClasses());
                    new DiffusionSampler(m.denoiser()).generate(r);
                    ConditioningTable table = m.call(ctx -> ctx.workspace(y.length, m.geometry(CFG.patchSize()))
                            .conditioning());
                    assertNotNull(table, "a table for 8 rows");
                    assertTrue(table.slot(ts[ts.length - 1], y) >= 0, "the last step's rows are in the table");
                }
            }
        }
    }
}
