package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.CheckpointException;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.TensorFiles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad requests fail with typed errors naming the problem, before the model runs. */
class SamplerBadInputTest {
    @TempDir
    Path tmp;

    private static <T extends Throwable> String fails(Class<T> type, org.junit.jupiter.api.function.Executable e) {
        return assertThrows(type, e).getMessage();
    }

    @Test
    void requestValuesAreChecked() {
        assertTrue(fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).steps(0).build())
                .contains("steps must be between 1 and 1000, got 0"));
        assertTrue(fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).steps(1001).build())
                .contains("got 1001"));
        assertTrue(fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).cfgScale(-0.5)
                .build()).contains("guidance scale"));
        fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).cfgScale(Double.NaN).build());
        fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).eta(-0.1).build());
        fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(1).eta(1.5).build());
        assertTrue(fails(InvalidArgumentException.class, () -> GenerationRequest.builder().build()).contains("label"));
        assertTrue(fails(InvalidArgumentException.class, () -> GenerationRequest.builder().labels(2, -1).build())
                .contains("-1"));
        fails(InvalidArgumentException.class, () -> SamplerType.parse("euler"));
    }

    @Test
    void labelsMustBeRealClassesAndGuidanceNeedsANullClass() {
        FakeDenoiser m = new FakeDenoiser(4, 4, true, 10);
        assertTrue(fails(InvalidArgumentException.class, () -> new DiffusionSampler(m).generate(
                GenerationRequest.builder().labels(3, 10).build())).contains("null class"));
        assertTrue(fails(InvalidArgumentException.class, () -> new DiffusionSampler(m).generate(
                GenerationRequest.builder().labels(11).build())).contains("classes 0..9"));
        FakeDenoiser noNull = new FakeDenoiser(4, 4, true, -1);
        assertTrue(fails(InvalidArgumentException.class, () -> new DiffusionSampler(noNull).generate(
                GenerationRequest.builder().labels(1).cfgScale(2).build())).contains("guidance scale 1"));
        assertEquals(0, m.calls.size() + noNull.calls.size(), "nothing evaluated");
    }

    @Test
    void modelsWithOddOutputChannelsAreRefused() {
        Denoiser odd = new FakeDenoiser(4, 4, true, 10) {
            @Override
            public int outChannels() {
                return 6;
            }
        };
        fails(ShapeMismatchException.class, () -> new DiffusionSampler(odd).generate(
                GenerationRequest.builder().labels(1).build()));
    }

    private Path noiseFile(long zRows, int c, int size, boolean withSteps, int stepRows, int stepCount) {
        SafetensorsWriter w = new SafetensorsWriter();
        w.addFloats("z", new long[] {zRows, c, size, size}, new float[(int) zRows * c * size * size]);
        for (int k = 0; withSteps && k < stepCount; k++) {
            w.addFloats("step." + k + ".noise", new long[] {stepRows, c, size, size}, new float[stepRows * c * size * size]);
        }
        Path p = tmp.resolve("noise" + System.nanoTime() + ".safetensors");
        w.write(p);
        return p;
    }

    private void runWith(Path noise, int labels, int steps) {
        long[] l = new long[labels];
        try (InjectedNoise n = InjectedNoise.open(noise, 0)) {
            new DiffusionSampler(new FakeDenoiser(4, 4, true, 10)).generate(GenerationRequest.builder().labels(l)
                    .steps(steps).noise(n).build());
        }
    }

    @Test
    void injectedNoiseShapesAndCountsAreChecked() {
        runWith(noiseFile(2, 4, 4, false, 0, 0), 2, 3); // [n,...] z, fresh step noise: fine
        runWith(noiseFile(4, 4, 4, true, 4, 2), 2, 3); // [2n,...] z and steps 0..S-2: fine
        assertTrue(fails(ShapeMismatchException.class, () -> runWith(noiseFile(3, 4, 4, false, 0, 0), 2, 3))
                .contains("'z'"), "z batch fits neither n nor 2n");
        fails(ShapeMismatchException.class, () -> runWith(noiseFile(2, 3, 4, false, 0, 0), 2, 3)); // channels
        fails(ShapeMismatchException.class, () -> runWith(noiseFile(2, 4, 8, false, 0, 0), 2, 3)); // size
        assertTrue(fails(ShapeMismatchException.class, () -> runWith(noiseFile(2, 4, 4, true, 2, 2), 2, 3))
                .contains("step.0.noise"), "step noise must cover the 2n guidance batch");
        assertTrue(fails(CheckpointException.class, () -> runWith(noiseFile(2, 4, 4, true, 4, 1), 2, 3))
                .contains("1 of the 2"), "some step noises missing");
        Path noZ = tmp.resolve("empty.safetensors");
        new SafetensorsWriter().addFloats("x", new long[] {1}, new float[1]).write(noZ);
        fails(CheckpointException.class, () -> runWith(noZ, 2, 3));
    }

    @Test
    void injectedNoiseReplacesTheDraws() {
        int per = 4 * 16;
        SafetensorsWriter w = new SafetensorsWriter();
        float[] z = new float[per];
        float[] s0 = new float[2 * per];
        for (int e = 0; e < per; e++) {
            z[e] = 0.01f * e;
        }
        java.util.Arrays.fill(s0, 0.5f);
        w.addFloats("z", new long[] {1, 4, 4, 4}, z).addFloats("step.0.noise", new long[] {2, 4, 4, 4}, s0);
        Path p = tmp.resolve("inj.safetensors");
        w.write(p);
        java.util.List<StepTrace> trace = new java.util.ArrayList<>();
        try (InjectedNoise n = new InjectedNoise(TensorFiles.open(p), 0)) {
            new DiffusionSampler(new FakeDenoiser(4, 4, true, 10)).generate(GenerationRequest.builder().labels(1)
                    .steps(2).noise(n).inspector(trace::add).build());
        }
        float[] x = trace.get(0).xIn();
        for (int e = 0; e < per; e++) {
            assertEquals(z[e], x[e]);
            assertEquals(z[e], x[per + e], "z duplicated for the guidance half");
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(s0, trace.get(0).noise());
    }

    /** 5M guided samples of 4x32x32 latents exceed one Java array: a typed error naming the count, not an overflow. */
    @Test
    void aRequestTooLargeForOneArrayIsRefusedWithAMessage() {
        long[] labels = new long[5_000_000];
        java.util.Arrays.fill(labels, 3);
        io.dyndit.core.InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(
                io.dyndit.core.InvalidArgumentException.class, () -> new DiffusionSampler(new FakeDenoiser(4, 32, true,
                        1000)).generate(GenerationRequest.builder().labels(labels).steps(2).seed(1).build()));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("5000000 samples"), e.getMessage());
    }
}
