package io.dyndit.cli;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.util.Locale;
import java.util.regex.Pattern;
import picocli.CommandLine.MissingParameterException;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.UnmatchedArgumentException;

/** What the user reads when a command fails: plain words, never a Java class name or a stack trace. */
final class ErrorMessages {
    /** "java.nio.file.NoSuchFileException: " and the like, as Throwable.toString() embeds them in messages. */
    private static final Pattern CLASS_NAME = Pattern.compile(
            "\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z][A-Za-z0-9_$]*(?:Exception|Error)\\b:?\\s*");

    private ErrorMessages() {}

    /** A runtime failure in one line. */
    static String plain(Throwable t) {
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + (t.getMessage() != null ? t.getMessage() : "Java heap")
                    + "); give Java more memory with -Xmx, or use a smaller batch or image";
        }
        if (t instanceof StackOverflowError) {
            return "stack overflow (internal error); rerun with --verbose for details";
        }
        String m = t instanceof IOException io ? "cannot access " + fileOf(io) + ": " + ioWords(io) : t.getMessage();
        for (Throwable c = t.getCause(); c != null && m != null; c = c.getCause()) {
            m = m.replace(c.toString(), c instanceof IOException io ? ioWords(io) : String.valueOf(c.getMessage()));
        }
        if (m == null || m.isBlank()) {
            return "internal error; rerun with --verbose for details";
        }
        return CLASS_NAME.matcher(m).replaceAll("").trim();
    }

    /** IOExceptions in words: "no such file", "permission denied", ... (class names removed). */
    static String ioWords(IOException e) {
        return CLASS_NAME.matcher(io.dyndit.internal.IoWords.of(e)).replaceAll("").trim();
    }

    private static String fileOf(IOException e) {
        return e instanceof FileSystemException fs && fs.getFile() != null ? fs.getFile() : "a file";
    }

    /** A command line picocli rejected, in the words the old parser used ("unknown option", "missing --out"). */
    static String usage(ParameterException e) {
        if (e instanceof UnmatchedArgumentException u && !u.getUnmatched().isEmpty()) {
            String arg = u.getUnmatched().get(0);
            String what = arg.startsWith("-") ? "unknown option '" + arg + "'"
                    : u.getCommandLine().getParent() == null ? "unknown command '" + arg + "'"
                    : "unexpected argument '" + arg + "'";
            var hints = u.getSuggestions();
            return hints.isEmpty() ? what : what + " (did you mean " + String.join(" or ", hints.subList(0,
                    Math.min(3, hints.size()))) + "?)";
        }
        if (e instanceof MissingParameterException m && m.getMissing() != null && !m.getMissing().isEmpty()) {
            StringBuilder names = new StringBuilder();
            for (ArgSpec a : m.getMissing()) {
                names.append(names.length() > 0 ? ", " : "")
                        .append(a instanceof OptionSpec o ? o.longestName() : a.paramLabel());
            }
            return e.getMessage() != null && e.getMessage().startsWith("Missing required parameter")
                    ? names + " needs a value" : "missing " + names;
        }
        String m = e.getMessage() == null ? "bad command line" : e.getMessage();
        m = m.replaceFirst("^Invalid value for option '([^']+)'(?: \\([^)]*\\))?: ", "invalid value for $1: ");
        return CLASS_NAME.matcher(lowerFirst(m)).replaceAll("").trim();
    }

    private static String lowerFirst(String s) {
        return s.isEmpty() ? s : s.substring(0, 1).toLowerCase(Locale.ROOT) + s.substring(1);
    }
}
