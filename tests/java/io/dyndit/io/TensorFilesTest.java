package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TensorFilesTest {
    @TempDir
    Path dir;

    @Test
    void picksTheReaderByContentNotExtension() throws IOException {
        Path pt = Files.copy(GoldenFiles.path(GoldenFiles.DIT, "weights.pt"), dir.resolve("weights.bin"));
        Path st = Files.copy(GoldenFiles.path(GoldenFiles.DIT, "weights.safetensors"), dir.resolve("weights.pt"));
        assertEquals(TensorFiles.Format.PYTORCH_ZIP, TensorFiles.detect(pt));
        assertEquals(TensorFiles.Format.SAFETENSORS, TensorFiles.detect(st));
        try (TensorFile a = TensorFiles.open(pt); TensorFile b = TensorFiles.open(st)) {
            assertEquals(b.names(), a.names());
            assertEquals("pytorch", a.metadata().get("format"));
        }
    }

    @Test
    void unknownContentIsAnErrorNamingTheFile() throws IOException {
        Path text = Files.writeString(dir.resolve("notes.txt"), "hello, not a checkpoint");
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorFiles.open(text));
        assertTrue(e.getMessage().contains(text.toString()), e.getMessage());
        Path empty = Files.write(dir.resolve("empty"), new byte[0]);
        assertThrows(CheckpointFormatException.class, () -> TensorFiles.open(empty));
        Path legacy = Files.write(dir.resolve("legacy.pt"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10});
        CheckpointFormatException old = assertThrows(CheckpointFormatException.class, () -> TensorFiles.open(legacy));
        assertTrue(old.getMessage().contains("legacy"), old.getMessage());
    }

    @Test
    void missingFileIsATypedError() {
        Path missing = dir.resolve("absent.safetensors");
        CheckpointException e = assertThrows(CheckpointException.class, () -> TensorFiles.open(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }
}
