package io.dyndit.cli;

import io.dyndit.io.CheckpointException;
import io.dyndit.io.AtomicOutput;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks of the files a command names, made before it loads or computes anything, so a typo in a path costs
 * nothing (exit 1 with the path in the message).
 */
final class FileChecks {
    private FileChecks() {}

    /** An input file (weights, config, latents): exists, is a file, can be read. Null is "not given". */
    static void readable(Path file) {
        if (file == null) {
            return;
        }
        if (!Files.exists(file)) {
            throw new CheckpointException("cannot read " + file + ": no such file");
        }
        if (Files.isDirectory(file)) {
            throw new CheckpointException("cannot read " + file + ": it is a directory");
        }
        if (!Files.isReadable(file)) {
            throw new CheckpointException("cannot read " + file + ": permission denied");
        }
    }

    /** An output file: its directory exists and is writable, and it is not a directory. Null is "not given". */
    static void writableFile(Path file) {
        if (file != null) {
            AtomicOutput.checkWritable(file);
        }
    }

    /**
     * An output directory (PNGs): an existing writable directory, or one that can be created under the nearest
     * existing directory. Null is "not given".
     */
    static void writableDir(Path dir) {
        if (dir == null) {
            return;
        }
        Path d = dir.toAbsolutePath();
        while (d != null && !Files.exists(d)) {
            d = d.getParent();
        }
        if (d == null || !Files.isDirectory(d)) {
            throw new CheckpointException("cannot write to directory " + dir + ": " + (d == null ? "no such directory"
                    : d + " is not a directory"));
        }
        if (!Files.isWritable(d)) {
            throw new CheckpointException("cannot write to directory " + dir + ": " + d + " is not writable");
        }
    }
}
