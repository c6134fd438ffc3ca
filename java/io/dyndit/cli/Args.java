package io.dyndit.cli;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** `--key value` and `--flag` options of one command, checked against what the command accepts. */
final class Args {
    private final Map<String, String> values = new HashMap<>();
    private final Set<String> flags = new HashSet<>();
    private final String usage;

    /** {@code valued}: options that take a value; {@code flagNames}: options that don't. */
    Args(String[] args, Set<String> valued, Set<String> flagNames, String usage) throws UsageException {
        this.usage = usage;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (flagNames.contains(a)) {
                flags.add(a);
            } else if (valued.contains(a)) {
                if (i + 1 >= args.length) {
                    throw new UsageException(a + " needs a value\nusage: " + usage);
                }
                values.put(a, args[++i]);
            } else {
                throw new UsageException("unknown option '" + a + "'\nusage: " + usage);
            }
        }
    }

    boolean flag(String name) {
        return flags.contains(name);
    }

    String get(String name, String dflt) {
        return values.getOrDefault(name, dflt);
    }

    String required(String name) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            throw new UsageException("missing " + name + "\nusage: " + usage);
        }
        return v;
    }

    Path path(String name) throws UsageException {
        return Path.of(required(name));
    }

    Path optionalPath(String name) {
        String v = values.get(name);
        return v == null ? null : Path.of(v);
    }

    double number(String name, double dflt) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be a number, got '" + v + "'");
        }
    }

    int integer(String name, int dflt) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new UsageException(name + " must be an integer, got '" + v + "'");
        }
    }

    boolean has(String name) {
        return values.containsKey(name);
    }
}
