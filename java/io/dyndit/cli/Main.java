package io.dyndit.cli;

import io.dyndit.core.DynditException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/** `dyndit <command> [options]`: the command-line front end. Exit code 0 only on success. */
public final class Main {
    /** A sub-command: runs with its arguments, returns the exit code. */
    interface Command {
        int run(String[] args, PrintStream out, PrintStream err) throws Exception;

        String summary();
    }

    private static final Map<String, Command> COMMANDS = new LinkedHashMap<>();

    static {
        COMMANDS.put("demo", new DemoCommand());
        COMMANDS.put("info", new InfoCommand());
        COMMANDS.put("forward", new ForwardCommand());
        COMMANDS.put("flops", new FlopsCommand());
        COMMANDS.put("bench", new BenchCommand());
        COMMANDS.put("sample", new SampleCommand());
        COMMANDS.put("decode", new DecodeCommand());
    }

    private Main() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs one command line; never exits the JVM (tests call this). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        if (args.length == 0 || args[0].equals("-h") || args[0].equals("--help") || args[0].equals("help")) {
            usage(out);
            return args.length == 0 ? 2 : 0;
        }
        Command c = COMMANDS.get(args[0]);
        if (c == null) {
            err.println("dyndit: unknown command '" + args[0] + "'");
            usage(err);
            return 2;
        }
        try {
            return c.run(Arrays.copyOfRange(args, 1, args.length), out, err);
        } catch (UsageException e) {
            err.println("dyndit " + args[0] + ": " + e.getMessage());
            return 2;
        } catch (DynditException e) {
            err.println("dyndit " + args[0] + ": error: " + e.getMessage());
            return 1;
        } catch (Exception e) {
            err.println("dyndit " + args[0] + ": error: " + e);
            return 1;
        }
    }

    private static void usage(PrintStream s) {
        s.println("usage: dyndit <command> [options]");
        for (Map.Entry<String, Command> e : COMMANDS.entrySet()) {
            s.printf("  %-10s %s%n", e.getKey(), e.getValue().summary());
        }
    }
}
