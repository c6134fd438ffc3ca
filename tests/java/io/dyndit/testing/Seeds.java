package io.dyndit.testing;

import java.util.concurrent.ThreadLocalRandom;

/** Fresh seeds for random tests, each printed with the test that drew it, so any failure can be replayed. */
public final class Seeds {
    private Seeds() {}

    /** A new random seed; prints "seed N (Class.method)" to the test's output. */
    public static long fresh() {
        long seed = ThreadLocalRandom.current().nextLong();
        StackWalker.StackFrame caller = StackWalker.getInstance().walk(s -> s.skip(1).findFirst()).orElseThrow();
        String who = caller.getClassName().substring(caller.getClassName().lastIndexOf('.') + 1) + "."
                + caller.getMethodName();
        System.out.println("seed " + seed + " (" + who + ")");
        return seed;
    }
}
