package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressBarTest {
    /** The redraw pacing runs on a fake clock: no dependence on how fast the machine is. */
    @Test
    void drawsStepsRateAndEtaInPlaceAtMostTenTimesASecondAndAlwaysTheLastStep() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        ConsoleProgressBar bar = new ConsoleProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "sampling",
                () -> now[0]);
        bar.onStep(new StepStats(0, 4, 999, 0.5, 1e9), 5, 0.5);
        now[0] = 50_000_000L; // 50 ms later: skipped
        bar.onStep(new StepStats(1, 3, 666, 0.5, 1e9), 5, 1.0);
        now[0] = 160_000_000L; // 160 ms after the first draw: drawn
        bar.onStep(new StepStats(2, 2, 444, 0.5, 1e9), 5, 1.5);
        now[0] = 170_000_000L; // the last step is always drawn
        bar.onStep(new StepStats(4, 0, 0, 0.5, 1e9), 5, 2.5);
        bar.finish();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rsampling ["), s);
        assertTrue(s.contains("1/5") && s.contains("2.00 steps/s") && s.contains("ETA 0:02"), s);
        assertTrue(!s.contains("2/5") && s.contains("3/5"), s);
        assertTrue(s.contains("5/5") && s.contains("[##############################]"), s);
        assertEquals(3, s.chars().filter(c -> c == '\r').count(), s);
        assertTrue(s.endsWith("\n"));
        assertEquals("1:01:01", ConsoleProgressBar.duration(3661));
    }
}
