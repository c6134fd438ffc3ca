package io.dyndit.cli;

import java.io.PrintStream;
import java.util.Locale;

/** Where a command prints, and how much: results always, progress and informational lines unless --quiet. */
final class Console {
    final PrintStream out;
    final PrintStream err;
    boolean quiet;
    boolean verbose;

    Console(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    /** An informational line on stdout (what was written, timings); dropped with --quiet. */
    void info(String format, Object... args) {
        if (!quiet) {
            out.printf(Locale.ROOT, format + "%n", args);
        }
    }

    /** A note on stderr (an assumption the command made); dropped with --quiet. */
    void note(String command, String message) {
        if (!quiet) {
            err.println("dyndit " + command + ": note: " + message);
        }
    }

    /** Progress bars only on a terminal and not with --quiet. */
    boolean showProgress() {
        return !quiet && System.console() != null;
    }
}
