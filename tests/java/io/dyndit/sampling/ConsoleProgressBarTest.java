package io.dyndit.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class ConsoleProgressBarTest {
    @Test
    void drawsStepsRateAndEtaInPlaceAndAlwaysTheLastStep() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ConsoleProgressBar bar = new ConsoleProgressBar(new PrintStream(bytes, true, StandardCharsets.UTF_8), "sampling");
        bar.onStep(new StepStats(0, 3, 999, 0.5, 1e9), 4, 0.5);
        bar.onStep(new StepStats(1, 2, 666, 0.5, 1e9), 4, 1.0); // within 100 ms of the first draw: skipped
        bar.onStep(new StepStats(3, 0, 0, 0.5, 1e9), 4, 2.0);
        bar.finish();
        String s = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(s.startsWith("\rsampling ["), s);
        assertTrue(s.contains("1/4") && s.contains("2.00 steps/s") && s.contains("ETA 0:02"), s);
        assertTrue(s.contains("4/4") && s.contains("[##############################]"), s);
        assertEquals(2, s.chars().filter(c -> c == '\r').count(), s);
        assertTrue(s.endsWith("\n"));
        assertEquals("1:01:01", ConsoleProgressBar.duration(3661));
    }
}
