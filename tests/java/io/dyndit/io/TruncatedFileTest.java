package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.model.DiTConfig;
import io.dyndit.model.DiTWeights;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A checkpoint truncated after it was opened (memory-mapped): reading the vanished pages raises SIGBUS, which must
 * surface as a typed CheckpointChangedException naming the file, never kill the JVM or leak an InternalError.
 */
class TruncatedFileTest {
    private static final int FLOATS = 3 << 20; // 12 MiB: several copy chunks

    @TempDir
    Path dir;

    @Test
    void safetensorsTruncatedAfterOpen() throws IOException {
        float[] values = randomFloats();
        Path path = dir.resolve("cut.safetensors");
        new SafetensorsWriter().addFloats("small", new long[] {2}, new float[] {1, 2})
                .addFloats("big", new long[] {FLOATS}, values).write(path);
        expectChangedAfterTruncation(path, values, SafetensorsReader::open);
    }

    @Test
    void torchCheckpointTruncatedAfterOpen() throws IOException {
        float[] values = randomFloats();
        byte[] pickle = new PickleBuilder().proto().emptyDict().string("big")
                .tensor("FloatStorage", "0", FLOATS, 0, new long[] {FLOATS}, new long[] {1}).setItem().stop().bytes();
        Path path = Files.write(dir.resolve("cut.pt"),
                TestZipWriter.torchCheckpoint(pickle, Map.of("0", TorchCheckpointReaderTest.floats(values))));
        expectChangedAfterTruncation(path, values, TorchCheckpointReader::open);
    }

    /**
     * End to end: DiT weights loaded onto a native (CPU) device from a golden checkpoint truncated after it was
     * opened. Before, native dd_tensor_write read the mapping and the process died of SIGBUS.
     */
    @Test
    void nativeWeightLoadFromATruncatedCheckpointIsATypedError() throws IOException {
        DiTConfig config = new DiTConfig(8, 2, 4, 64, 2, 4, 4.0, 0.1, 10, true); // golden dit_p2_d64_h4
        for (String name : new String[] {"weights.safetensors", "weights.pt"}) {
            Path path = Files.copy(GoldenFiles.path(GoldenFiles.DIT, name), dir.resolve(name));
            try (TensorFile file = TensorFiles.open(path); DiTWeights intact = DiTWeights.load(file, config,
                    Device.cpu())) {
                assertTrue(file.names().size() > 10, name);
            }
            long size = Files.size(path);
            try (TensorFile file = TensorFiles.open(path)) {
                try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                    raf.setLength(size / 3);
                }
                CheckpointChangedException e = assertThrows(CheckpointChangedException.class,
                        () -> DiTWeights.load(file, config, Device.cpu()).close(), name);
                assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("tensor '"),
                        e.getMessage());
            }
        }
    }

    /** Same size, new contents under the same name (a re-save renamed over it): not silently mixed in. */
    @Test
    void fileReplacedAfterOpen() throws IOException {
        float[] values = randomFloats();
        Path path = dir.resolve("replaced.safetensors");
        new SafetensorsWriter().addFloats("big", new long[] {FLOATS}, values).write(path);
        try (TensorFile file = SafetensorsReader.open(path)) {
            StoredTensor big = file.get("big");
            float[] other = values.clone();
            other[0] += 1;
            new SafetensorsWriter().addFloats("big", new long[] {FLOATS}, other).write(path); // atomic rename
            CheckpointChangedException e = assertThrows(CheckpointChangedException.class, big::data);
            assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("tensor 'big'"),
                    e.getMessage());
        }
    }

    private static void expectChangedAfterTruncation(Path path, float[] values, Function<Path, TensorFile> open)
            throws IOException {
        long size = Files.size(path);
        try (TensorFile intact = open.apply(path)) {
            assertArrayEquals(values, intact.get("big").toFloatArray(), "before truncation");
        }
        try (TensorFile file = open.apply(path)) {
            StoredTensor big = file.get("big");
            try (RandomAccessFile raf = new RandomAccessFile(path.toFile(), "rw")) {
                raf.setLength(size / 2);
            }
            CheckpointChangedException e = assertThrows(CheckpointChangedException.class, big::data);
            assertTrue(e.getMessage().contains(path.toString()) && e.getMessage().contains("tensor 'big'")
                    && e.getMessage().contains("truncated") && e.getMessage().contains(size + " bytes when opened, "
                    + size / 2 + " bytes now"), e.getMessage());
            assertThrows(CheckpointChangedException.class, big::toFloatArray);
        }
        // The JVM is alive and the reader still works on an intact file.
        assertTrue(Files.size(path) == size / 2);
    }

    private static float[] randomFloats() {
        long seed = io.dyndit.testing.Seeds.fresh();
        System.out.println("TruncatedFileTest seed " + seed);
        Random random = new Random(seed);
        float[] values = new float[FLOATS];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return values;
    }
}
