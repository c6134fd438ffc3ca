package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `sample --cache ... --compare-static`: the uncached static run from the same noise is the reference; caching nothing
 * deviates by exactly 0, caching something by more; the compute line reports what the cache skipped.
 */
class CompareStaticTest {
    private static Path golden(String dir, String name) throws Exception {
        return Path.of(CompareStaticTest.class.getResource("/" + dir + "/" + name).toURI());
    }

    private static String sample(Path out, String... extra) throws Exception {
        String[] base = {"sample", "--weights", golden("golden/dpmpp2m_10_cfg4", "weights.safetensors").toString(),
            "--config", golden("golden/dpmpp2m_10_cfg4", "case.json").toString(), "--labels", "1,8", "--sampler",
            "dpm++2m", "--steps", "12", "--cfg-scale", "4", "--compare-static", "--out", out.toString()};
        String[] args = java.util.Arrays.copyOf(base, base.length + extra.length);
        System.arraycopy(extra, 0, args, base.length, extra.length);
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(o, true, StandardCharsets.UTF_8), new PrintStream(e, true,
                StandardCharsets.UTF_8));
        String all = o.toString(StandardCharsets.UTF_8) + e.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, all);
        return all;
    }


    @Test
    void deviationIsZeroWhenNothingIsCachedAndPositiveOtherwise(@TempDir Path tmp) throws Exception {
        String none = sample(tmp.resolve("a.safetensors"), "--cache", "block:1");
        assertEquals(0.0, io.dyndit.testing.Numbers.find(none, "final latents relative L2 ([0-9.eE+-]+)"), "block:1 caches nothing");
        assertEquals(100.0, io.dyndit.testing.Numbers.find(none, "GMACs static \\(([0-9.]+)%\\)"), 1e-9);
        String cached = sample(tmp.resolve("b.safetensors"), "--cache", "block:3");
        assertTrue(io.dyndit.testing.Numbers.find(cached, "final latents relative L2 ([0-9.eE+-]+)") > 0, cached);
        assertTrue(io.dyndit.testing.Numbers.find(cached, "GMACs static \\(([0-9.]+)%\\)") < 60, cached);
    }

    @Test
    void decodedImagesAreComparedByPsnr(@TempDir Path tmp) throws Exception {
        Path vae = golden("golden-vae/v1_tiny_32_64_g8_4x6", "weights.safetensors");
        Path cfg = golden("golden-vae/v1_tiny_32_64_g8_4x6", "case.json"); // its "config" member is the VAE's
        String same = sample(tmp.resolve("a.safetensors"), "--cache", "step:0", "--vae", vae.toString(), "--vae-config",
                cfg.toString());
        assertTrue(same.contains("PSNR Infinity dB"), same);
        String cached = sample(tmp.resolve("b.safetensors"), "--cache", "step:0.5", "--vae", vae.toString(),
                "--vae-config", cfg.toString());
        double psnr = io.dyndit.testing.Numbers.find(cached, "PSNR ([0-9.]+) dB");
        assertTrue(psnr > 0 && psnr < 200, cached);
    }

    /** --report: steps.csv holds every step's MACs (adding up to the compute line), compute.png the plot. */
    @Test
    void reportWritesThePerStepTableAndPlot(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("report");
        String out = sample(tmp.resolve("r.safetensors"), "--cache", "block:3", "--report", dir.toString());
        java.util.List<String> rows = java.nio.file.Files.readAllLines(dir.resolve("steps.csv"));
        assertEquals("step,timestep,seconds,executed_gmacs,static_gmacs", rows.get(0));
        assertEquals(13, rows.size(), "a header and 12 steps");
        double executed = 0, staticSum = 0, first = 0, second = 0;
        for (int k = 1; k < rows.size(); k++) {
            String[] f = rows.get(k).split(",");
            assertEquals(k - 1, Integer.parseInt(f[0]));
            executed += Double.parseDouble(f[3]);
            staticSum += Double.parseDouble(f[4]);
            first = k == 1 ? Double.parseDouble(f[3]) : first;
            second = k == 2 ? Double.parseDouble(f[3]) : second;
        }
        assertEquals(io.dyndit.testing.Numbers.find(out, "compute: ([0-9.e+-]+) GMACs executed"), executed, 1e-3 * executed);
        assertEquals(io.dyndit.testing.Numbers.find(out, "executed, ([0-9.e+-]+) GMACs static"), staticSum, 1e-3 * staticSum);
        assertTrue(second < 0.5 * first, "block:3: step 1 reuses step 0's branches");
        java.awt.image.BufferedImage png = javax.imageio.ImageIO.read(dir.resolve("compute.png").toFile());
        assertEquals(800, png.getWidth());
        boolean blue = false, orange = false;
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = 0; x < png.getWidth(); x++) {
                int rgb = png.getRGB(x, y) & 0xFFFFFF;
                blue |= rgb == 0x1f77b4;
                orange |= rgb == 0xff7f0e;
            }
        }
        assertTrue(blue && orange, "both panels drawn");
    }

    /** --budget prints the chosen schedule and spends what it planned, within 2% below the budget. */
    @Test
    void budgetPicksAndPrintsASchedule(@TempDir Path tmp) throws Exception {
        String out = sample(tmp.resolve("b.safetensors"), "--budget", "0.4");
        double planned = io.dyndit.testing.Numbers.find(out, "budget 40.0%: .*: ([0-9.]+)% of the static compute");
        double spent = io.dyndit.testing.Numbers.find(out, "GMACs static \\(([0-9.]+)%\\)");
        assertEquals(planned, spent, 0.11, out);
        assertTrue(spent <= 40.05 && spent >= 37.95, out);
        assertTrue(out.contains("step 11: patch"), out);
        CliConventionsTest.Run both = CliConventionsTest.run(2, "sample", "--weights", "w.pt", "--labels", "1", "--out",
                tmp.resolve("c.safetensors").toString(), "--budget", "0.4", "--cache", "block:2");
        assertTrue(both.err().contains("--budget"), both.err());
    }
}
