package io.dyndit.spark;

/**
 * A generation run that cannot go on, in plain words for the command line (exit code 1): an out-dir of another run,
 * a corrupt shard at merge time, an unreachable master, a failed Spark job.
 *
 * <p>Thread-safety: immutable after construction, like any exception.
 */
final class GenerateFailure extends RuntimeException {
    GenerateFailure(String message) {
        super(message);
    }

    GenerateFailure(String message, Throwable cause) {
        super(message, cause);
    }
}
