package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes and values that used to overflow or slip through (issue 16, row 9): each is a usage error or a typed error
 * with a plain message, never a negative count, a Java class name or a NaN result with exit 0.
 */
class OverflowInputsTest {
    private static void plain(CliConventionsTest.Run r) {
        for (String bad : new String[] {"Exception", "java.", "at io.", "-2147"}) {
            assertFalse(r.all().contains(bad), "'" + bad + "' in: " + r.all());
        }
    }

    @Test
    void hugeBenchBatchIsAUsageError() {
        CliConventionsTest.Run r = CliConventionsTest.run("bench", "--model", "DiT-S/2", "--batch", "2147483647");
        assertEquals(2, r.code(), r.all());
        assertTrue(r.err().contains("out of range"), r.err());
        plain(r);
    }

    @Test
    void hugeInputSizeIsRefusedByTheConfig() {
        CliConventionsTest.Run r = CliConventionsTest.run("flops", "--model", "DiT-S/2", "--input-size", "2147483646");
        assertEquals(1, r.code(), r.all());
        assertTrue(r.err().contains("input_size 2147483646 exceeds the supported maximum"), r.err());
        plain(r);
    }

    @Test
    void nanGuidanceAndTimestepsFailInsteadOfWritingNaN(@TempDir Path tmp) throws Exception {
        Path dir = Path.of(getClass().getResource("/golden/dit_p2_d64_h4/case.json").toURI()).getParent();
        Path out = tmp.resolve("out.safetensors");
        CliConventionsTest.Run r = CliConventionsTest.run("forward", "--weights", dir.resolve("weights.safetensors")
                .toString(), "--config", dir.resolve("case.json").toString(), "--inputs",
                dir.resolve("io.safetensors").toString(), "--prefix", "cfg.", "--cfg-scale", "NaN", "--out", out.toString());
        assertTrue(r.code() == 1 || r.code() == 2, r.all());
        assertTrue(r.err().contains("NaN"), r.err());
        assertFalse(Files.exists(out), "no output for a refused run");
        plain(r);
    }
}
