package io.dyndit.cli;

/** A command line that does not parse (exit code 2). */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
