package io.dyndit.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * A sub-command: picocli fills its options, {@link Main} calls it. It validates its options first (throwing
 * {@link UsageException}), then checks its files, then computes.
 */
abstract class CliCommand implements Callable<Integer> {
    /** Set by {@link Main} before parsing; quiet/verbose are filled in after. */
    Console console;

    @Mixin
    CommonOptions common;

    /** -h, -v, -q on every command (also accepted before the command name). */
    static final class CommonOptions {
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
        boolean help;

        @Option(names = {"-v", "--verbose"}, description = "on failure, also print the stack trace")
        boolean verbose;

        @Option(names = {"-q", "--quiet"}, description = "no progress or informational lines (files are still written)")
        boolean quiet;
    }
}
