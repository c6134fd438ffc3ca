package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTMacs;
import io.dyndit.model.DiTModel;
import io.dyndit.model.FlexiSchedule;
import io.dyndit.model.RandomDiT;
import io.dyndit.sampling.GenerationRequest;
import java.nio.file.Path;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** demo, bench and the --flexi-* options run end to end, with their outputs checked by value. */
class CommandRunsTest {
    @TempDir
    Path tmp;


    /** The demo's latents equal the same generation run here; its .npz holds them; its PNGs exist at 256x256. */
    @Test
    void demoWritesTheSamplesItGenerated() throws Exception {
        CliConventionsTest.Run r = CliConventionsTest.run(0, "demo", "--out", tmp.toString(), "--steps", "2", "--labels",
                "3", "--seed", "11", "--quiet");
        DiTConfig c = DiTConfig.preset("DiT-S/2", 32);
        float[] want;
        try (DiTModel m = DiTModel.load(new RandomDiT(c, 1), c, Device.cpu())) {
            want = m.generate(GenerationRequest.builder().labels(3).steps(2).cfgScale(4).seed(11).build()).samples();
        }
        try (TensorFile f = TensorFiles.open(tmp.resolve("samples.safetensors"))) {
            assertArrayEquals(want, f.get("samples").toFloatArray(), r.all());
        }
        try (ZipFile zip = new ZipFile(tmp.resolve("samples.npz").toFile())) {
            assertArrayEquals(want, io.dyndit.io.NpyMembers.read(zip, "arr_0.npy").floats());
            assertArrayEquals(new long[] {3}, io.dyndit.io.NpyMembers.read(zip, "labels.npy").longs());
        }
        java.awt.image.BufferedImage img = javax.imageio.ImageIO.read(tmp.resolve("000000.png").toFile());
        assertEquals(256, img.getWidth());
        assertEquals(256, img.getHeight());
    }

    /** A forward's rate is its MACs over its time, and its share of the SGEMM rate is printed from the same numbers. */
    @Test
    void benchReportsConsistentRates() {
        String out = CliConventionsTest.run(0, "bench", "--model", "DiT-S/2", "--batch", "1", "--iters", "2", "--warmup",
                "0").out();
        double ms = io.dyndit.testing.Numbers.find(out, "forward: median ([0-9.]+) ms"), gflops = io.dyndit.testing.Numbers.find(out, "achieved: ([0-9.]+) GFLOP/s");
        double sgemm = io.dyndit.testing.Numbers.find(out, "sgemm: +([0-9.]+) GFLOP/s"), ratio = io.dyndit.testing.Numbers.find(out, "ratio: +([0-9.]+)% of the SGEMM");
        double want = 2 * DiTMacs.total(DiTConfig.preset("DiT-S/2", 32)) / (ms * 1e6);
        assertEquals(want, gflops, 0.06 * want + 0.1, "rounded to 0.1 ms / 0.1 GFLOP/s");
        assertEquals(100 * gflops / sgemm, ratio, 0.1 + 0.002 * ratio);
    }

    /** Two steps with block:2: one full step and one cached (embedding, every adaLN, final layer): an exact MAC ratio. */
    @Test
    void generationBenchReportsTheCachedMacRatio() {
        String out = CliConventionsTest.run(0, "bench", "--model", "DiT-S/2", "--batch", "2", "--sample-steps", "2",
                "--cache", "block:2", "--iters", "1").out();
        DiTConfig c = DiTConfig.preset("DiT-S/2", 32);
        double d = c.hiddenSize(), t = c.tokens(), pp = 4, n = 2;
        double full = DiTMacs.total(c) * n;
        double cached = n * (t * d * 4 * pp + 256 * d + d * d) + c.depth() * n * 6 * d * d + n * (2 * d * d + t * d * pp * 8);
        assertEquals((full + cached) / (2 * full), io.dyndit.testing.Numbers.find(out, "at MAC ratio ([0-9.]+)"), 1e-3, out);
    }

    /** --flexi-steps K: K steps at the weak patch, the rest native (unguided: one branch per step), as MACs. */
    @Test
    void flexiOptionsSetThePatchSchedule() throws Exception {
        Path dir = Path.of(getClass().getResource("/golden/dit_p2_d64_h4/case.json").toURI()).getParent();
        String[] base = {"sample", "--weights", dir.resolve("weights.safetensors").toString(), "--config",
            dir.resolve("case.json").toString(), "--labels", "1,2", "--steps", "5", "--cfg-scale", "1", "--seed", "3",
            "--out", tmp.resolve("f.safetensors").toString()};
        DiTConfig c = DiTConfig.fromJson(dir.resolve("case.json"));
        String out = CliConventionsTest.run(0, with(base, "--flexi-patch", "4", "--flexi-steps", "2")).out();
        double executed = io.dyndit.testing.Numbers.find(out, "compute: ([0-9.e+-]+) GMACs executed");
        double stat = io.dyndit.testing.Numbers.find(out, "executed, ([0-9.e+-]+) GMACs static");
        double want = (2 * FlexiSchedule.macsAt(c, 4) + 3 * DiTMacs.total(c)) / (5 * DiTMacs.total(c));
        assertEquals(want, executed / stat, 2e-3, out); // the line prints 4 significant digits
        assertEquals(5 * 2 * DiTMacs.total(c) / 1e9, stat, 1e-3 * stat);
        String budget = CliConventionsTest.run(0, with(base, "--flexi-budget", "0.6")).out();
        double share = io.dyndit.testing.Numbers.find(budget, "GMACs static \\(([0-9.]+)%\\)");
        int k = FlexiSchedule.forBudget(c, 4, 5, 0.6, Double.NaN).kCond();
        double exact = 100 * (k * FlexiSchedule.macsAt(c, 4) + (5 - k) * DiTMacs.total(c)) / (5 * DiTMacs.total(c));
        assertEquals(exact, share, 0.051, budget);
        assertTrue(share <= 60.0 + 0.05, "within the budget: " + share);
    }

    private static String[] with(String[] base, String... more) {
        String[] all = java.util.Arrays.copyOf(base, base.length + more.length);
        System.arraycopy(more, 0, all, base.length, more.length);
        return all;
    }
}
