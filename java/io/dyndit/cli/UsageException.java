package io.dyndit.cli;

/** A command line that parses but does not make sense (exit code 2); thrown before any file is read. */
final class UsageException extends Exception {
    UsageException(String message) {
        super(message);
    }
}
