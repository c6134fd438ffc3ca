package io.dyndit.spark;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * `dyndit generate` (the launcher runs it for that command; spark-submit runs it as the jar's main class). Exit codes
 * as the core CLI's: 0 success (and --help), 1 the run failed, 2 bad command line.
 *
 * <p>Thread-safety: {@link #run} is for one call at a time per JVM (Spark allows one active SparkContext per JVM);
 * calls one after another are fine and reuse the JVM's loaded model when the settings match.
 */
public final class GenerateMain {
    static final int OK = 0, FAILED = 1, USAGE = 2;

    private GenerateMain() {}

    public static void main(String[] args) {
        quietSparkLogs();
        System.exit(run(args, System.out, System.err));
    }

    /**
     * Outside spark-submit (which brings the cluster's logging setup), Spark prints warnings only: its INFO lines would
     * bury the progress. Set before anything touches log4j; a -Dlog4j2.configurationFile of the user's wins.
     */
    private static void quietSparkLogs() {
        java.net.URL cfg = GenerateMain.class.getResource("log4j2-local.properties");
        if (cfg != null && System.getProperty("spark.master") == null
                && System.getProperty("log4j2.configurationFile") == null) {
            System.setProperty("log4j2.configurationFile", cfg.toString());
        }
    }

    /** Runs one `generate` command line; never exits the JVM (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        GenerateCommand command = new GenerateCommand();
        CommandLine cl = new CommandLine(command).setUsageHelpWidth(100).setExpandAtFiles(false)
                .setOverwrittenOptionsAllowed(true)
                .setOut(new PrintWriter(out, true, StandardCharsets.UTF_8))
                .setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        ParseResult parsed;
        try {
            parsed = cl.parseArgs(args);
        } catch (ParameterException e) {
            return usage(cl, e.getMessage(), err);
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            return OK;
        }
        try {
            command.call(out);
            return OK;
        } catch (GenerateUsageException e) {
            return usage(cl, e.getMessage(), err);
        } catch (Throwable t) { // every failure ends as one plain line
            err.println("dyndit generate: error: " + Words.of(t));
            if (command.verbose) {
                t.printStackTrace(err);
            }
            return FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static int usage(CommandLine cl, String message, PrintStream err) {
        err.println("dyndit generate: " + message);
        cl.usage(err);
        return USAGE;
    }
}
