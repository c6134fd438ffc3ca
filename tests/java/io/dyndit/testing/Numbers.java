package io.dyndit.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Numbers read back from command output, the way a script reads them. */
public final class Numbers {
    private Numbers() {}

    /** The first group of {@code regex} in {@code text} as a double; fails naming the pattern when absent. */
    public static double find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no '" + regex + "' in:\n" + text);
        return Double.parseDouble(m.group(1));
    }
}
