package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dyndit.io.CheckpointException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Outputs appear whole or not at all. */
class AtomicOutputTest {
    @TempDir
    Path tmp;

    private List<Path> listing() throws Exception {
        try (var s = Files.list(tmp)) {
            return s.toList();
        }
    }

    @Test
    void writesThroughATemporaryFileAndMovesIt() throws Exception {
        Path target = tmp.resolve("out.bin");
        AtomicOutput.write(target, p -> {
            try {
                Files.write(p, new byte[] {1, 2, 3});
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertEquals(List.of(target), listing());
        assertEquals(3, Files.size(target));
    }

    @Test
    void aFailedWriteLeavesNoFileAndKeepsTheOldOne() throws Exception {
        Path target = tmp.resolve("out.bin");
        assertThrows(CheckpointException.class, () -> AtomicOutput.write(target, p -> {
            throw new CheckpointException("disk full");
        }));
        assertEquals(List.of(), listing());
        Files.writeString(target, "old");
        assertThrows(CheckpointException.class, () -> AtomicOutput.write(target, p -> {
            try {
                Files.writeString(p, "half");
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            throw new CheckpointException("failed half way");
        }));
        assertEquals("old", Files.readString(target));
        assertEquals(List.of(target), listing());
    }

    @Test
    void unwritableTargetsAreRefusedUpFront() {
        assertThrows(CheckpointException.class, () -> AtomicOutput.checkWritable(tmp.resolve("missing/x.bin")));
        assertThrows(CheckpointException.class, () -> AtomicOutput.checkWritable(tmp));
        assertFalse(Files.exists(tmp.resolve("missing")));
    }
}
