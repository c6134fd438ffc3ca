package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dyndit.core.Device;
import io.dyndit.core.ModelClosedException;
import io.dyndit.core.Precision;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** One decoder shared by 4 threads with mixed batch sizes and tile plans: each decode equals the same decode alone. */
class VaeConcurrencyTest {
    @ParameterizedTest(name = "on {0}")
    @ValueSource(strings = {"cpu", "cuda-emu"})
    void sharedDecoderGivesEachCallerWhatItGetsAlone(String device) throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        VaeConfig c = VaeConfig.fromJson(VaeGolden.dir("v1_tiny_32_64_g8_4x6").resolve("case.json"));
        try (VaeDecoder vae = VaeDecoder.load(new RandomVae(c, seed), c, Device.parse(device))
                .precision(Precision.FP32)) {
            int jobs = 6;
            List<float[]> inputs = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            List<float[]> alone = new ArrayList<>();
            for (int j = 0; j < jobs; j++) {
                long[] shape = {1 + r.nextInt(3), c.latentChannels(), 3 + r.nextInt(3), 4};
                float[] z = new float[(int) (shape[0] * shape[1] * shape[2] * shape[3])];
                for (int i = 0; i < z.length; i++) {
                    z[i] = (float) r.nextGaussian();
                }
                inputs.add(z);
                shapes.add(shape);
                alone.add(vae.decodeLatents(z, shape).image());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int th = 0; th < 4; th++) {
                    long order = r.nextLong();
                    done.add(pool.submit(() -> {
                        Random o = new Random(order);
                        for (int k = 0; k < 3 * jobs; k++) {
                            int j = o.nextInt(jobs);
                            assertArrayEquals(alone.get(j), vae.decodeLatents(inputs.get(j), shapes.get(j)).image(),
                                    "decode " + j + " on " + device + " (seed " + seed + ")");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get(5, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            vae.close();
            ModelClosedException e = assertThrows(ModelClosedException.class,
                    () -> vae.decodeLatents(inputs.get(0), shapes.get(0)));
            assertEquals("VAE decoder is closed", e.getMessage());
        }
    }
}
