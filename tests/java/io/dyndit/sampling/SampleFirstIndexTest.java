package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.cli.Main;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.testing.Seeds;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `sample --first-index A`: labels draw the noise of global samples A, A+1, ..., as a larger batch from 0 does. */
class SampleFirstIndexTest {
    /**
     * The two runs batch different samples together (6 vs 3), so float32 sums run in another order; the 10-step
     * guided chain of the random tiny model amplifies that (its latents reach 1e3), hence a relative L2 bound: the
     * issue's 1e-4. Measured: below 1e-6.
     */
    private static final double BATCH_ORDER_TOLERANCE = 1e-4;

    @TempDir
    Path tmp;

    private static String run(int expect, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expect, code, Arrays.toString(args) + ": " + e);
        return e;
    }

    private String[] sample(String labels, long seed, Path out, String... more) {
        String[] head = {"sample", "--weights", SamplingGolden.file(SamplingGolden.DDPM_CASE, "weights.safetensors")
                .toString(), "--config", SamplingGolden.file(SamplingGolden.DDPM_CASE, "case.json").toString(),
            "--labels", labels, "--steps", "10", "--seed", Long.toString(seed), "--out", out.toString(), "-q"};
        String[] all = Arrays.copyOf(head, head.length + more.length);
        System.arraycopy(more, 0, all, head.length, more.length);
        return all;
    }

    private static float[] samples(Path file) {
        try (TensorFile f = TensorFiles.open(file)) {
            return f.get("samples").toFloatArray();
        }
    }

    @Test
    void aRangeReproducesThoseRowsOfTheWholeBatch() {
        long seed = Seeds.fresh();
        Path whole = tmp.resolve("whole.safetensors"), part = tmp.resolve("part.safetensors");
        run(0, sample("7,1,4,9,9,2", seed, whole));
        run(0, sample("9,9,2", seed, part, "--first-index", "3"));
        int per = 4 * 8 * 8;
        float[] rows = Arrays.copyOfRange(samples(whole), 3 * per, 6 * per);
        double dev = Deviation.relativeL2(samples(part), rows);
        assertTrue(dev <= BATCH_ORDER_TOLERANCE, "rows 3..5 vs --first-index 3: relative L2 " + dev);
        // without the first index the same labels draw the noise of samples 0..2: another result
        Path unshifted = tmp.resolve("unshifted.safetensors");
        run(0, sample("9,9,2", seed, unshifted));
        assertTrue(Deviation.relativeL2(samples(unshifted), rows) > 0.1);
    }

    @Test
    void badFirstIndexIsAUsageError() {
        Path out = tmp.resolve("x.safetensors");
        assertTrue(run(2, sample("1", 1, out, "--first-index", "-1")).contains("--first-index must be in 0..4294967295"));
        assertTrue(run(2, sample("1", 1, out, "--first-index", "4294967296")).contains("--first-index must be in"));
        assertTrue(run(2, sample("1", 1, out, "--first-index", "2", "--noise", out.toString()))
                .contains("--first-index numbers the seeded noise"));
    }
}
