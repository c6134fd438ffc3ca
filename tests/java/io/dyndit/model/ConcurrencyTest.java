package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.ModelClosedException;
import io.dyndit.core.Precision;
import io.dyndit.core.Tensor;
import io.dyndit.sampling.DiffusionSampler;
import io.dyndit.sampling.GenerationRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Models shared by several threads: every call returns bit for bit what the same call returns alone (the reference is
 * each job run sequentially first), with mixed batch sizes, models (DiT, DyDiT with token routing, DiffCR) and
 * generations; close() racing with forwards never frees memory under them.
 */
class ConcurrencyTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    /** A DiffCR checkpoint on random weights: random routers, per-block keep ratios. */
    static RandomDiT diffcr(long seed) {
        RandomDiT f = new RandomDiT(CFG, seed);
        Random r = new Random(seed);
        float[] ratios = new float[CFG.depth() * 2];
        for (int i = 0; i < CFG.depth(); i++) {
            float[] w = new float[CFG.hiddenSize()];
            for (int j = 0; j < w.length; j++) {
                w[j] = (float) (r.nextGaussian() / Math.sqrt(CFG.hiddenSize()));
            }
            f.put("blocks." + i + ".diffcr_router.weight", w, 1, CFG.hiddenSize());
            ratios[2 * i] = 0.25f + 0.5f * r.nextFloat();
            ratios[2 * i + 1] = 0.25f + 0.5f * r.nextFloat();
        }
        f.put("diffcr.ratios", ratios, CFG.depth(), 2);
        return f;
    }

    private record Job(DiTModel model, float[] x, float[] t, long[] y) {
        float[] run() {
            return model.forward(x, t, y);
        }
    }

    private static List<Job> jobs(List<DiTModel> models, Random r, int count) {
        List<Job> jobs = new ArrayList<>();
        int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
        for (int j = 0; j < count; j++) {
            DiTModel m = models.get(j % models.size());
            int n = 1 + r.nextInt(4); // mixed batch sizes: separate workspaces
            float[] x = new float[n * per], t = new float[n];
            long[] y = new long[n];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < n; i++) {
                t[i] = r.nextBoolean() ? 999 : r.nextInt(1000); // mixed timesteps: dynamic sub-batches
                y[i] = r.nextInt(CFG.numClasses());
            }
            jobs.add(new Job(m, x, t, y));
        }
        return jobs;
    }

    /** Runs every job alone for the reference, then all of them from 4 threads several times, in shuffled orders. */
    private static void sharedForwardsEqualSequential(Device device, int jobCount, int rounds) throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        try (DiTModel dit = DiTModel.load(new RandomDiT(CFG, seed), CFG, device).precision(Precision.FP32);
                DiTModel dydit = DiTModel.load(RandomDyDiT.create(CFG, true, 2, 2, 0.0, seed + 1), CFG, device)
                        .precision(Precision.FP32);
                DiTModel routed = DiTModel.load(diffcr(seed + 2), CFG, device).precision(Precision.FP32)) {
            List<Job> jobs = jobs(List.of(dit, dydit, routed), r, jobCount);
            List<float[]> alone = new ArrayList<>();
            for (Job j : jobs) {
                alone.add(j.run());
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<?>> futures = new ArrayList<>();
                for (int th = 0; th < 4; th++) {
                    long order = r.nextLong();
                    futures.add(pool.submit(() -> {
                        Random o = new Random(order);
                        for (int k = 0; k < rounds * jobs.size(); k++) {
                            int j = o.nextInt(jobs.size());
                            assertArrayEquals(alone.get(j), jobs.get(j).run(), "job " + j + " on " + device + " (seed "
                                    + seed + ")");
                        }
                        return null;
                    }));
                }
                for (Future<?> f : futures) {
                    f.get(10, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            assertTrue(dit.executionContexts() >= 1 && dit.executionContexts() <= Math.max(2,
                    Runtime.getRuntime().availableProcessors()), "contexts " + dit.executionContexts());
        }
    }

    @Test
    void fourThreadsOnSharedModelsGetWhatEachCallGetsAloneOnTheCpu() throws Exception {
        sharedForwardsEqualSequential(Device.cpu(), 12, 4);
    }

    @Test
    void fourThreadsOnSharedModelsGetWhatEachCallGetsAloneOnCudaEmu() throws Exception {
        sharedForwardsEqualSequential(Device.cudaEmulated(), 6, 1);
    }

    /** Generations on one shared model (the device loop on cuda-emu keeps its outputs in its own context). */
    private static void sharedGenerationsEqualSequential(Device device) throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, seed), CFG, device).precision(Precision.FP32)) {
            GenerationRequest[] requests = new GenerationRequest[4];
            float[][] alone = new float[4][];
            for (int i = 0; i < 4; i++) {
                long[] labels = i % 2 == 0 ? new long[] {i} : new long[] {1, 2, 4};
                requests[i] = GenerationRequest.builder().labels(labels).steps(4).cfgScale(i < 2 ? 3.0 : 1.0)
                        .seed(seed + i).build();
                alone[i] = new DiffusionSampler(m.denoiser()).generate(requests[i]).samples();
            }
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                List<Future<float[]>> got = new ArrayList<>();
                for (int round = 0; round < 2; round++) {
                    for (int i = 0; i < 4; i++) {
                        GenerationRequest q = requests[i];
                        boolean viaModel = i % 2 == 0;
                        got.add(pool.submit(() -> viaModel ? m.generate(q).samples()
                                : new DiffusionSampler(m.denoiser()).generate(q).samples()));
                    }
                }
                for (int k = 0; k < got.size(); k++) {
                    assertArrayEquals(alone[k % 4], got.get(k).get(10, TimeUnit.MINUTES), "generation " + k + " on "
                            + device + " (seed " + seed + ")");
                }
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Test
    void generationsOnASharedModelEqualSequentialOnTheCpu() throws Exception {
        sharedGenerationsEqualSequential(Device.cpu());
    }

    @Test
    void generationsOnASharedModelEqualSequentialOnCudaEmu() throws Exception {
        sharedGenerationsEqualSequential(Device.cudaEmulated());
    }

    /** Tensor in, tensor out: the same values as the float[] forward, on the model's device. */
    @Test
    void tensorForwardEqualsArrayForward() {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        for (Device d : new Device[] {Device.cpu(), Device.cudaEmulated()}) {
            try (DiTModel m = DiTModel.load(RandomDyDiT.create(CFG, true, 2, 3, 0.5, seed), CFG, d)
                    .precision(Precision.FP32)) {
                int n = 3, per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
                float[] x = new float[n * per];
                for (int i = 0; i < x.length; i++) {
                    x[i] = (float) r.nextGaussian();
                }
                long[] t = {500, 500, 500}, y = {0, 4, 2};
                float[] want = m.forward(x, t, y);
                try (Tensor xt = Tensor.of(x, n, CFG.inChannels(), CFG.inputSize(), CFG.inputSize());
                        Tensor out = m.forward(xt, t, y)) {
                    assertEquals(d, out.device());
                    assertArrayEquals(want, out.toFloatArray(), "seed " + seed);
                }
                java.nio.FloatBuffer xb = java.nio.FloatBuffer.wrap(x), ob = java.nio.FloatBuffer.allocate(want.length);
                DiTModel.Result res = m.forward(xb, t, y, ob);
                assertArrayEquals(want, ob.array());
                assertEquals(DiTMacs.total(CFG) * n, res.staticMacs(), 1e-6 * res.staticMacs());
                assertTrue(res.macs() < res.staticMacs(), "a DyDiT forward at 2 of 3 heads runs less than static");
            }
        }
    }

    /** close() racing with forwards on other threads: each forward completes or says the model is closed. */
    @Test
    void closeWhileOtherThreadsForwardWaitsOrRefuses() throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
        float[] x = new float[2 * per];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) Math.sin(i + seed % 1000);
        }
        for (int round = 0; round < 20; round++) {
            DiTModel m = DiTModel.load(new RandomDiT(CFG, seed + round), CFG, Device.cpu());
            float[] want = m.forward(x, new long[] {10, 10}, new long[] {1, 2});
            ExecutorService pool = Executors.newFixedThreadPool(3);
            try {
                List<Future<Integer>> done = new ArrayList<>();
                for (int th = 0; th < 3; th++) {
                    done.add(pool.submit(() -> {
                        int ok = 0;
                        while (true) {
                            float[] got;
                            try {
                                got = m.forward(x, new long[] {10, 10}, new long[] {1, 2});
                            } catch (ModelClosedException e) {
                                assertEquals("model is closed", e.getMessage());
                                return ok;
                            }
                            assertArrayEquals(want, got);
                            ok++;
                        }
                    }));
                }
                Thread.sleep(1 + round % 5);
                m.close();
                for (Future<Integer> f : done) {
                    f.get(1, TimeUnit.MINUTES);
                }
            } finally {
                pool.shutdownNow();
            }
            ModelClosedException e = assertThrows(ModelClosedException.class,
                    () -> m.forward(x, new long[] {10, 10}, new long[] {1, 2}));
            assertEquals("model is closed", e.getMessage());
            assertThrows(ModelClosedException.class, () -> m.generate(GenerationRequest.builder().labels(1).steps(2)
                    .build()));
            m.close(); // idempotent
        }
    }

    @Test
    void closeFromInsideTheModelsOwnForwardIsRefused() {
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 5), CFG, Device.cpu())) {
            int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forward(new float[per],
                    new float[] {3}, new long[] {0}, (name, v) -> m.close()));
            assertTrue(e.getMessage().contains("inside"), e.getMessage());
            assertEquals(CFG.outChannels() * CFG.inputSize() * CFG.inputSize(),
                    m.forward(new float[per], new long[] {3}, new long[] {0}).length, "still open");
        }
    }

    @Test
    void badTimestepsAndScalesAreRefused() {
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 5), CFG, Device.cpu())) {
            int per = CFG.inChannels() * CFG.inputSize() * CFG.inputSize();
            assertThrows(io.dyndit.core.InvalidArgumentException.class,
                    () -> m.forward(new float[per], new float[] {Float.NaN}, new long[] {0}));
            assertThrows(io.dyndit.core.InvalidArgumentException.class,
                    () -> m.forward(new float[per], new long[] {-1}, new long[] {0}));
            assertThrows(io.dyndit.core.InvalidArgumentException.class,
                    () -> m.forward(new float[per], new long[] {1L << 62}, new long[] {0}));
            assertThrows(io.dyndit.core.InvalidArgumentException.class,
                    () -> m.forwardWithCfg(new float[2 * per], new long[] {5, 5}, new long[] {0, 5}, Double.NaN));
        }
    }
}
