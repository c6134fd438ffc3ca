package io.dyndit.spark;

/**
 * A wrong `generate` command line, found before anything is computed (exit code 2): N < 1, an unknown class, a bad
 * master URL, options that do not go together.
 *
 * <p>Thread-safety: immutable after construction, like any exception.
 */
final class GenerateUsageException extends Exception {
    GenerateUsageException(String message) {
        super(message);
    }
}
