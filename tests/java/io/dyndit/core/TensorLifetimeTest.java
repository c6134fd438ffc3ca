package io.dyndit.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Native memory of tensors: the GC safety net behind close(), and close() racing with ops on other threads. */
class TensorLifetimeTest {
    private static long rssBytes() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new AssertionError("no VmRSS in /proc/self/status");
    }

    /** Collects until the live native bytes are back at {@code target} (cleaners run on their own thread). */
    private static long collectUntil(long target) throws InterruptedException {
        long live = Tensor.liveNativeBytes();
        for (int i = 0; i < 200 && live > target; i++) {
            System.gc();
            Thread.sleep(25);
            live = Tensor.liveNativeBytes();
        }
        return live;
    }

    @Test
    void oneGibOfUnclosedTensorsIsGivenBackAfterGc() throws Exception {
        long base = collectUntil(0), rss0 = rssBytes();
        long chunk = 16L << 20, total = 1L << 30;
        int made = 0;
        for (long done = 0; done < total; done += chunk) {
            Tensor t = Tensor.zeros(Device.cpu(), DType.F32, chunk / 4); // zeroed: the pages are really resident
            assertEquals(chunk / 4, t.numel());
            made++; // dropped without close()
        }
        assertEquals(64, made);
        long live = collectUntil(base);
        assertTrue(live <= base, "native bytes still live after GC: " + (live - base));
        long rss = rssBytes();
        assertTrue(rss < rss0 + (256L << 20), "RSS grew by " + ((rss - rss0) >> 20) + " MiB after 1 GiB was dropped");
    }

    @Test
    void closedViewsAndTensorsFreeOnceAndUsesAfterCloseThrow() {
        long base = Tensor.liveNativeBytes();
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor v = t.narrow(1, 1, 2);
        t.close();
        assertEquals(2f, v.toFloatArray()[0], "a view keeps the storage alive");
        v.close();
        v.close();
        assertTrue(Tensor.liveNativeBytes() <= base);
        TensorClosedException e = org.junit.jupiter.api.Assertions.assertThrows(TensorClosedException.class,
                t::toFloatArray);
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("after close()"), e.getMessage());
    }

    /**
     * One thread runs a GEMM over and over while another closes its weight: each op either completes with the right
     * values or throws TensorClosedException before touching memory; nothing is freed under a running op.
     */
    @Test
    void closeWhileAnotherThreadsOpUsesTheTensorIsSafe() throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random r = new Random(seed);
        int m = 256, k = 512, n = 256;
        float[] xs = new float[m * k], ws = new float[n * k];
        for (int i = 0; i < xs.length; i++) {
            xs[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < ws.length; i++) {
            ws[i] = (float) r.nextGaussian();
        }
        float[] want;
        try (Tensor x = Tensor.of(xs, m, k); Tensor w = Tensor.of(ws, n, k); Tensor y = Tensor.empty(Device.cpu(),
                DType.F32, m, n)) {
            Ops.linear(x, w, null, y);
            want = y.toFloatArray();
        }
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            for (int round = 0; round < 30; round++) {
                Tensor x = Tensor.of(xs, m, k), w = Tensor.of(ws, n, k);
                List<Future<Integer>> runs = new ArrayList<>();
                for (int th = 0; th < 2; th++) {
                    runs.add(pool.submit(() -> {
                        int ok = 0;
                        try (Tensor y = Tensor.empty(Device.cpu(), DType.F32, m, n)) {
                            while (true) {
                                try {
                                    Ops.linear(x, w, null, y);
                                } catch (TensorClosedException e) {
                                    return ok;
                                }
                                org.junit.jupiter.api.Assertions.assertArrayEquals(want, y.toFloatArray(),
                                        "seed " + seed);
                                ok++;
                            }
                        }
                    }));
                }
                Thread.sleep(round % 4);
                w.close();
                for (Future<Integer> f : runs) {
                    f.get(1, TimeUnit.MINUTES);
                }
                x.close();
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
