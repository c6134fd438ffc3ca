package io.dyndit.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {
    private static String[] run(int expectCode, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int code = Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
                StandardCharsets.UTF_8));
        String o = out.toString(StandardCharsets.UTF_8), e = err.toString(StandardCharsets.UTF_8);
        assertEquals(expectCode, code, "exit code; stdout=" + o + " stderr=" + e);
        return new String[] {o, e};
    }

    @Test
    void infoReportsBuildAndMachine() {
        String out = run(0, "info", "--check")[0];
        for (String key : new String[] {"dyndit ", "cpu:", "kernels:", "threads:", "blas:", "cuda:", "gpu:"}) {
            assertTrue(out.contains(key), "missing '" + key + "' in:\n" + out);
        }
        assertTrue(out.contains("self-check") && out.contains(": ok"), out);
    }

    @Test
    void unknownCommandAndOptionExitWithUsage() {
        assertTrue(run(2, "frobnicate")[1].contains("unknown command"));
        assertTrue(run(2, "info", "--bogus")[1].contains("unknown option"));
    }
}
