package io.dyndit.cli;

import io.dyndit.core.LibraryInfo;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * `dyndit <command> [options]`: the command-line front end. Exit codes: 0 success (and --help, --version),
 * 1 the command failed, 2 the command line is wrong (nothing was read or computed).
 */
@Command(name = "dyndit", versionProvider = Main.Version.class,
        description = "Diffusion Transformers (DiT, DyDiT, FlexiDiT, DiffCR) on CPU and CUDA.",
        footer = {"", "Run 'dyndit <command> --help' for the options of a command.",
            "Exit codes: 0 success, 1 the command failed, 2 bad command line."})
public final class Main {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    @CommandLine.Option(names = {"-h", "--help"}, usageHelp = true, description = "show this help and exit")
    boolean help;

    @CommandLine.Option(names = {"-V", "--version"}, versionHelp = true, description = "print the version and exit")
    boolean version;

    @CommandLine.Option(names = {"-v", "--verbose"}, description = "on failure, also print the stack trace")
    boolean verbose;

    @CommandLine.Option(names = {"-q", "--quiet"}, description = "no progress or informational lines (files are still written)")
    boolean quiet;

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; never exits the JVM (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Console console = new Console(out, err);
        CommandLine root = commandLine(console);
        if (args.length > 0 && args[0].equals("help")) { // `dyndit help [command]`
            CommandLine target = args.length > 1 ? root.getSubcommands().get(args[1]) : root;
            if (target == null) {
                err.println("dyndit: unknown command '" + args[1] + "'");
                root.usage(err);
                return USAGE;
            }
            target.usage(out);
            return OK;
        }
        ParseResult parsed;
        try {
            parsed = root.parseArgs(args);
        } catch (ParameterException e) {
            CommandLine where = e.getCommandLine();
            if (e instanceof CommandLine.MissingParameterException && !where.getUnmatchedArguments().isEmpty()) {
                // a misspelt option is the likelier cause than a forgotten one: report that
                e = new CommandLine.UnmatchedArgumentException(where, where.getUnmatchedArguments());
            }
            return usageError(where, ErrorMessages.usage(e), err);
        }
        if (CommandLine.printHelpIfRequested(parsed)) {
            return OK;
        }
        if (!parsed.hasSubcommand()) {
            return usageError(root, "missing command", err);
        }
        ParseResult sub = parsed.subcommand();
        CommandLine cmd = sub.commandSpec().commandLine();
        console.verbose = parsed.hasMatchedOption("--verbose") || sub.hasMatchedOption("--verbose");
        console.quiet = parsed.hasMatchedOption("--quiet") || sub.hasMatchedOption("--quiet");
        String name = "dyndit " + cmd.getCommandName();
        try {
            return ((Callable<?>) cmd.getCommand()).call() instanceof Integer code ? code : OK;
        } catch (UsageException e) {
            return usageError(cmd, e.getMessage(), err);
        } catch (Throwable t) { // every failure, OutOfMemoryError included, ends as one plain line
            err.println(name + ": error: " + ErrorMessages.plain(t));
            if (console.verbose) {
                t.printStackTrace(err);
            }
            return FAILED;
        } finally {
            out.flush();
            err.flush();
        }
    }

    private static CommandLine commandLine(Console console) {
        CommandLine cl = new CommandLine(new Main());
        for (CliCommand c : new CliCommand[] {new DemoCommand(), new InfoCommand(), new ForwardCommand(),
            new FlopsCommand(), new BenchCommand(), new SampleCommand(), new DecodeCommand(),
            new GenerateHintCommand()}) {
            c.console = console;
            cl.addSubcommand(c);
        }
        Converters.register(cl);
        cl.setUsageHelpWidth(100);
        cl.setUsageHelpLongOptionsMaxWidth(28); // --flexi-guidance-steps=K and its description on one line
        cl.setExpandAtFiles(false); // "@name" is a value like any other (a path may start with @)
        cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins, as scripts expect
        cl.setOut(new PrintWriter(console.out, true));
        cl.setErr(new PrintWriter(console.err, true));
        return cl;
    }

    private static int usageError(CommandLine cl, String message, PrintStream err) {
        String name = cl.getCommandSpec().qualifiedName();
        err.println(name + ": " + message);
        cl.usage(err);
        return USAGE;
    }

    /** The version of this build: the jar's Maven version, else the native library's dd_version. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {"dyndit " + version()};
        }

        static String version() {
            try (InputStream in = Main.class.getResourceAsStream("/META-INF/maven/io.dyndit/dyndit/pom.properties")) {
                if (in != null) {
                    Properties p = new Properties();
                    p.load(in);
                    String v = p.getProperty("version");
                    if (v != null && !v.isBlank()) {
                        return v;
                    }
                }
            } catch (java.io.IOException ignored) {
                // fall back to asking the native library
            }
            try {
                return LibraryInfo.query().version();
            } catch (RuntimeException | LinkageError e) {
                return "unknown (native library not loadable: " + ErrorMessages.plain(e) + ")";
            }
        }
    }
}
