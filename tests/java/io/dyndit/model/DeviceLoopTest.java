package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.sampling.Cancellation;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationCancelledException;
import io.dyndit.sampling.GenerationRequest;
import io.dyndit.sampling.GenerationResult;
import io.dyndit.sampling.SamplerType;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The sampling loop with its latents on the device (cuda-emu) against the same model through the host loop (the
 * denoiser wrapped so the sampler cannot see its device): same samples, step statistics, progress and cancel.
 */
class DeviceLoopTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;


    /**
     * The update ops equal the Java update except that exp may differ by an ulp between Java and the C library, which
     * the chain can carry a little: 1e-5 relative to max(1, |x|).
     */
    @ParameterizedTest
    @EnumSource(SamplerType.class)
    void deviceLoopMatchesTheHostLoop(SamplerType sampler) {
        long seed = io.dyndit.testing.Seeds.fresh();
        RandomDiT file = new RandomDiT(CFG, seed);
        try (DiTModel m = DiTModel.load(file, CFG, Device.cudaEmulated()).precision(Precision.FP32)) {
            GenerationRequest r = GenerationRequest.builder().labels(1, 3).steps(6).sampler(sampler).eta(0.5)
                    .cfgScale(3.0).seed(seed).build();
            GenerationResult onDevice = new DiffusionSampler(m.denoiser()).generate(r);
            GenerationResult onHost = new DiffusionSampler(PlainDenoiser.hostOnly(m.denoiser())).generate(r);
            float[] a = onDevice.samples(), b = onHost.samples();
            assertEquals(b.length, a.length);
            for (int i = 0; i < a.length; i++) {
                assertTrue(Math.abs(a[i] - b[i]) <= 1e-5 * Math.max(1, Math.abs(b[i])),
                        "sample " + i + ": device " + a[i] + ", host " + b[i] + " (seed " + seed + ")");
            }
            assertEquals(6, onDevice.steps().size());
            assertEquals(onHost.executedMacs(), onDevice.executedMacs());
            assertTrue(m.capturedGraphs() >= 1, "static forwards ran as graphs");
        }
    }

    @Test
    void cancelStopsTheDeviceLoopBetweenSteps() {
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 3), CFG, Device.cudaEmulated())) {
            Cancellation cancel = new Cancellation();
            int[] progressCalls = {0};
            GenerationRequest r = GenerationRequest.builder().labels(2).steps(10).cancellation(cancel)
                    .progress((s, total, elapsed) -> {
                        progressCalls[0]++;
                        assertTrue(s.macs() > 0);
                        if (s.step() == 2) {
                            cancel.cancel();
                        }
                    }).build();
            GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                    () -> new DiffusionSampler(m.denoiser()).generate(r));
            assertEquals(3, e.completedSteps());
            assertEquals(3, progressCalls[0]);
        }
    }
}
