package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Batch layout, labels, timesteps, progress, statistics and cancellation of the loop (with a stand-in model). */
class SamplerLoopTest {
    @Test
    void guidanceCarriesZzAndNullLabelsAndReturnsTheFirstHalf() {
        FakeDenoiser m = new FakeDenoiser(4, 4, true, 10);
        List<StepTrace> trace = new ArrayList<>();
        GenerationResult r = new DiffusionSampler(m).generate(GenerationRequest.builder().labels(3, 7).steps(5)
                .cfgScale(4.0).seed(1).inspector(trace::add).build());
        assertEquals(5, m.calls.size());
        for (FakeDenoiser.Call c : m.calls) {
            assertArrayEquals(new long[] {3, 7, 10, 10}, c.labels());
            assertEquals(4.0, c.cfgScale());
        }
        float[] z = trace.get(0).xIn();
        int per = 4 * 16;
        assertArrayEquals(Arrays.copyOfRange(z, 0, 2 * per), Arrays.copyOfRange(z, 2 * per, 4 * per), "[z; z]");
        assertArrayEquals(new long[] {2, 4, 4, 4}, r.shape());
        assertArrayEquals(Arrays.copyOfRange(trace.get(4).sample(), 0, 2 * per), r.samples());
    }

    @Test
    void scaleOneRunsThePlainForwardOnNSamples() {
        FakeDenoiser m = new FakeDenoiser(4, 4, true, 10);
        new DiffusionSampler(m).generate(GenerationRequest.builder().labels(3, 7, 1).steps(3).cfgScale(1).build());
        for (FakeDenoiser.Call c : m.calls) {
            assertArrayEquals(new long[] {3, 7, 1}, c.labels());
            assertEquals(1.0, c.cfgScale());
        }
    }

    @Test
    void modelReceivesOriginalTimestepsInLoopOrderAndSamplesMatchItsTimestepMap() {
        FakeDenoiser m = new FakeDenoiser(4, 4, true, 10);
        List<StepStats> seen = new ArrayList<>();
        double[] lastElapsed = {-1};
        GenerationResult r = new DiffusionSampler(m).generate(GenerationRequest.builder().labels(0).steps(10)
                .progress((s, total, elapsed) -> {
                    assertEquals(10, total);
                    assertTrue(elapsed >= lastElapsed[0]);
                    lastElapsed[0] = elapsed;
                    seen.add(s);
                }).build());
        long[] expected = {999, 888, 777, 666, 555, 444, 333, 222, 111, 0};
        assertArrayEquals(expected, m.calls.stream().mapToLong(FakeDenoiser.Call::timestep).toArray());
        assertEquals(10, seen.size());
        for (int k = 0; k < 10; k++) {
            StepStats s = seen.get(k);
            assertEquals(k, s.step());
            assertEquals(9 - k, s.index());
            assertEquals(expected[k], s.timestep());
            assertEquals(2 * FakeDenoiser.MACS_PER_SAMPLE, s.macs(), "the step's MACs (batch 2 with guidance)");
            assertTrue(s.seconds() >= 0);
        }
        assertEquals(seen, r.steps());
        assertEquals(20 * FakeDenoiser.MACS_PER_SAMPLE, r.executedMacs());
        assertEquals(20 * FakeDenoiser.MACS_PER_SAMPLE, r.staticMacs());
    }

    @Test
    void ddpmAddsNoiseOnEveryStepButTheLastAndDdimOnlyWithEta() {
        List<StepTrace> ddpm = new ArrayList<>(), ddim0 = new ArrayList<>(), ddim1 = new ArrayList<>();
        new DiffusionSampler(new FakeDenoiser(2, 2, true, 5)).generate(GenerationRequest.builder().labels(1).steps(4)
                .inspector(ddpm::add).build());
        new DiffusionSampler(new FakeDenoiser(2, 2, true, 5)).generate(GenerationRequest.builder().labels(1).steps(4)
                .sampler(SamplerType.DDIM).inspector(ddim0::add).build());
        new DiffusionSampler(new FakeDenoiser(2, 2, true, 5)).generate(GenerationRequest.builder().labels(1).steps(4)
                .sampler(SamplerType.DDIM).eta(0.5).inspector(ddim1::add).build());
        for (int k = 0; k < 3; k++) {
            assertNotNull(ddpm.get(k).noise());
            assertNull(ddim0.get(k).noise());
            assertNotNull(ddim1.get(k).noise());
        }
        assertNull(ddpm.get(3).noise());
        assertNull(ddim1.get(3).noise());
    }

    @Test
    void sameSeedSameSamplesDifferentSeedDifferentSamples() {
        GenerationRequest.Builder b = GenerationRequest.builder().labels(2, 3).steps(6).seed(11);
        float[] a = new DiffusionSampler(new FakeDenoiser(4, 4, true, 10)).generate(b.build()).samples();
        float[] again = new DiffusionSampler(new FakeDenoiser(4, 4, true, 10)).generate(b.build()).samples();
        float[] other = new DiffusionSampler(new FakeDenoiser(4, 4, true, 10)).generate(b.seed(12).build()).samples();
        assertArrayEquals(a, again);
        assertTrue(!Arrays.equals(a, other));
    }

    @Test
    void cancelStopsBetweenStepsWithATypedException() {
        FakeDenoiser m = new FakeDenoiser(4, 4, true, 10);
        Cancellation cancel = new Cancellation();
        GenerationRequest r = GenerationRequest.builder().labels(1).steps(20).cancellation(cancel)
                .progress((s, total, elapsed) -> {
                    if (s.step() == 2) {
                        cancel.cancel();
                    }
                }).build();
        GenerationCancelledException e = assertThrows(GenerationCancelledException.class,
                () -> new DiffusionSampler(m).generate(r));
        assertEquals(3, e.completedSteps());
        assertEquals(3, m.calls.size(), "no model evaluation after the cancel");
        assertTrue(e instanceof io.dyndit.core.DynditException);
    }
}
