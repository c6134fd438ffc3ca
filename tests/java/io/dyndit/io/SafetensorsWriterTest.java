package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsWriterTest {
    @TempDir
    Path dir;

    @Test
    void roundTripsFreshRandomValues() throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        String context = "seed " + seed;
        Random random = new Random(seed);
        float[] weights = new float[3 * 5 * 7];
        for (int i = 0; i < weights.length; i++) {
            // Mostly ordinary values, some arbitrary bit patterns (NaNs excluded: their payloads may not survive).
            float raw = Float.intBitsToFloat(random.nextInt());
            weights[i] = random.nextInt(8) == 0 && !Float.isNaN(raw) ? raw : (float) random.nextGaussian();
        }
        double[] schedule = random.doubles(11).toArray();
        long[] labels = random.longs(4).toArray();
        float[] bias = {random.nextFloat()};

        Path path = dir.resolve("round.safetensors");
        new SafetensorsWriter()
                .addFloats("blocks.0.weight", new long[] {3, 5, 7}, weights)
                .addDoubles("sched.betas", new long[] {11}, schedule)
                .addLongs("y", new long[] {2, 2}, labels)
                .addFloats("bias \"quoted\"", new long[] {}, bias)
                .addFloats("empty", new long[] {0, 4}, new float[0])
                .putMetadata("format", "pt")
                .write(path);

        assertEquals(0, headerLength(path) % 8, context);
        try (TensorFile file = TensorFiles.open(path)) {
            assertArrayEquals(bitsOf(weights), bitsOf(file.get("blocks.0.weight").toFloatArray()), context);
            assertArrayEquals(new long[] {3, 5, 7}, file.get("blocks.0.weight").shape(), context);
            assertArrayEquals(schedule, file.get("sched.betas").toDoubleArray(), context);
            assertEquals(DType.F64, file.get("sched.betas").dtype());
            assertArrayEquals(labels, file.get("y").toLongArray(), context);
            assertArrayEquals(new long[] {2, 2}, file.get("y").shape());
            assertArrayEquals(bitsOf(bias), bitsOf(file.get("bias \"quoted\"").toFloatArray()), context);
            assertEquals(0, file.get("bias \"quoted\"").rank());
            assertEquals(0, file.get("empty").elementCount());
            assertEquals(Map.of("format", "pt"), file.metadata());
            // 8-byte types first, then 4-byte ones, each group by name.
            assertEquals(List.of("sched.betas", "y", "bias \"quoted\"", "blocks.0.weight", "empty"), file.names());
        }
    }

    @Test
    void outputDoesNotDependOnInsertionOrder() {
        Map<String, StoredTensor> forward = new LinkedHashMap<>();
        forward.put("a", StoredTensor.ofFloats("a", new long[] {2}, new float[] {1, 2}));
        forward.put("b", StoredTensor.ofLongs("b", new long[] {1}, new long[] {3}));
        forward.put("c", StoredTensor.ofFloats("c", new long[] {1}, new float[] {4}));
        SafetensorsWriter one = new SafetensorsWriter();
        forward.forEach(one::add);
        SafetensorsWriter two = new SafetensorsWriter();
        List.of("c", "b", "a").forEach(name -> two.add(name, forward.get(name)));
        assertArrayEquals(one.toByteArray(), two.toByteArray());
    }

    @Test
    void rewritesGoldenWeightsBitIdentically() throws Exception {
        Path original = GoldenFiles.path(GoldenFiles.DIT, "weights.safetensors");
        Path copy = dir.resolve("copy.safetensors");
        try (TensorFile file = SafetensorsReader.open(original)) {
            Map<String, StoredTensor> all = new LinkedHashMap<>();
            for (String name : file.names()) {
                all.put(name, file.get(name));
            }
            SafetensorsWriter.write(copy, all);
            try (TensorFile reread = SafetensorsReader.open(copy)) {
                for (String name : file.names()) {
                    assertEquals(file.get(name).data(), reread.get(name).data(), name);
                    assertArrayEquals(file.get(name).shape(), reread.get(name).shape(), name);
                }
            }
        }
    }

    @Test
    void headerIsPaddedWithSpacesToAMultipleOf8() {
        byte[] bytes = new SafetensorsWriter().addFloats("x", new long[] {1}, new float[] {1}).toByteArray();
        long length = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, length % 8);
        assertEquals(' ', bytes[(int) (8 + length - 1)]);
        assertEquals(8 + length + 4, bytes.length);
    }

    @Test
    void rejectsDuplicateAndReservedNames() {
        SafetensorsWriter writer = new SafetensorsWriter().addFloats("x", new long[] {1}, new float[] {1});
        assertThrows(CheckpointException.class, () -> writer.addFloats("x", new long[] {1}, new float[] {1}));
        assertThrows(CheckpointException.class,
                () -> writer.addFloats("__metadata__", new long[] {1}, new float[] {1}));
    }

    private static long headerLength(Path path) throws Exception {
        return ByteBuffer.wrap(Files.readAllBytes(path)).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    private static int[] bitsOf(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    /** A write that fails half-way (a tensor whose backing file was truncated) leaves the old file and no litter. */
    @Test
    void failedWriteKeepsTheExistingFile() throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        Random random = new Random(seed);
        Path path = dir.resolve("keep.safetensors");
        float[] old = new float[] {random.nextFloat(), random.nextFloat()};
        new SafetensorsWriter().addFloats("old", new long[] {2}, old).write(path);
        byte[] before = Files.readAllBytes(path);

        Path sourcePath = dir.resolve("source.safetensors");
        float[] big = new float[1 << 20];
        for (int i = 0; i < big.length; i++) {
            big[i] = (float) random.nextGaussian();
        }
        new SafetensorsWriter().addFloats("big", new long[] {big.length}, big).write(sourcePath);
        try (TensorFile source = SafetensorsReader.open(sourcePath)) {
            StoredTensor vanishing = source.get("big");
            try (java.io.RandomAccessFile raf = new java.io.RandomAccessFile(sourcePath.toFile(), "rw")) {
                raf.setLength(Files.size(sourcePath) / 2);
            }
            // "a" (8-byte elements) is laid out and written first, then "big" fails.
            SafetensorsWriter writer = new SafetensorsWriter().addLongs("a", new long[] {3}, new long[] {1, 2, 3})
                    .add("big", vanishing);
            CheckpointChangedException e = assertThrows(CheckpointChangedException.class, () -> writer.write(path));
            assertTrue(e.getMessage().contains(sourcePath.toString()), "seed " + seed + ": " + e.getMessage());
        }
        assertArrayEquals(before, Files.readAllBytes(path), "seed " + seed + ": the existing file was damaged");
        try (var listing = Files.list(dir)) {
            assertEquals(List.of("keep.safetensors", "source.safetensors"),
                    listing.map(p -> p.getFileName().toString()).sorted().toList(), "temporary file left behind");
        }
        try (TensorFile reread = SafetensorsReader.open(path)) {
            assertArrayEquals(old, reread.get("old").toFloatArray());
        }
    }
}
