package io.dyndit.sampling;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar for a terminal: redrawn in place with '\r', showing steps done, steps/s and the time left
 * (estimated from the mean step time so far), at most ten times a second and always at the last step. Call
 * {@link #finish()} to end the line.
 *
 * <p>Thread-safety: not thread-safe: one bar per generation (listeners are called on the generating thread).
 */
public final class ConsoleProgressBar implements ProgressListener {
    private static final int WIDTH = 30;
    private static final long MIN_REDRAW_NANOS = 100_000_000L;
    private final PrintStream out;
    private final String label;
    private final java.util.function.LongSupplier clock; // nanoseconds
    private boolean drawn;
    private long lastDraw;

    public ConsoleProgressBar(PrintStream out, String label) {
        this(out, label, System::nanoTime);
    }

    /** With the clock that paces redraws (tests give a fake one). */
    ConsoleProgressBar(PrintStream out, String label, java.util.function.LongSupplier nanoClock) {
        this.out = out;
        this.label = label;
        this.clock = nanoClock;
    }

    @Override
    public void onStep(StepStats stats, int totalSteps, double elapsedSeconds) {
        int done = stats.step() + 1;
        long now = clock.getAsLong();
        if (drawn && done < totalSteps && now - lastDraw < MIN_REDRAW_NANOS) {
            return;
        }
        lastDraw = now;
        int filled = (int) ((long) WIDTH * done / totalSteps);
        double rate = elapsedSeconds > 0 ? done / elapsedSeconds : 0;
        double eta = rate > 0 ? (totalSteps - done) / rate : 0;
        out.print(String.format(Locale.ROOT, "\r%s [%s%s] %d/%d  %.2f steps/s  ETA %s  t=%-4d", label,
                "#".repeat(filled), ".".repeat(WIDTH - filled), done, totalSteps, rate, duration(eta), stats.timestep()));
        out.flush();
        drawn = true;
    }

    public void finish() {
        if (drawn) {
            out.println();
            drawn = false;
        }
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
