package io.dyndit.io;

/**
 * A Python global the restricted unpickler may invoke through REDUCE. Implementations are plain Java code that
 * builds data (a dict, a tensor view); they never execute anything from the file.
 */
interface PickleCallable {
    /** Applies the callable to REDUCE's argument tuple; throws CheckpointFormatException for malformed arguments. */
    Object call(PickleTuple args);
}
