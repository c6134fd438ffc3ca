package io.dyndit.cli;

import io.dyndit.io.CheckpointException;
import io.dyndit.io.NpzWriter;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.AtomicOutput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The result files of the commands, each written whole or not at all (AtomicOutput: a temporary file beside the
 * target, renamed over it), with the same default permissions as any file the user creates.
 */
final class OutputFiles {
    private OutputFiles() {}

    static void safetensors(Path target, SafetensorsWriter writer) {
        AtomicOutput.checkWritable(target);
        writer.write(target); // itself all or nothing (through AtomicOutput)
    }

    static void npz(Path target, NpzWriter writer) {
        AtomicOutput.write(target, tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20)) {
                writer.writeTo(out);
            } catch (IOException e) {
                throw new CheckpointException("cannot write " + target + ": " + ErrorMessages.ioWords(e), e);
            }
        });
    }
}
