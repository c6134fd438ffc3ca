package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsReaderTest {
    @TempDir
    Path dir;

    @Test
    void readsGoldenIoTensorsWithTheShapesFromCaseJson() {
        Map<String, Object> caseJson = JsonParser.parseObject(GoldenFiles.text(GoldenFiles.DIT, "case.json"));
        Map<?, ?> ioTensors = (Map<?, ?>) caseJson.get("io_tensors");
        try (TensorFile file = SafetensorsReader.open(GoldenFiles.path(GoldenFiles.DIT, "io.safetensors"))) {
            assertEquals(ioTensors.size(), file.names().size());
            for (Map.Entry<?, ?> entry : ioTensors.entrySet()) {
                Map<?, ?> described = (Map<?, ?>) entry.getValue();
                StoredTensor tensor = file.get((String) entry.getKey());
                assertArrayEquals(longs((List<?>) described.get("shape")), tensor.shape(), tensor.name());
                DType expected = switch ((String) described.get("dtype")) {
                    case "float32" -> DType.F32;
                    case "float64" -> DType.F64;
                    case "int64" -> DType.I64;
                    default -> throw new AssertionError(described.get("dtype"));
                };
                assertEquals(expected, tensor.dtype(), tensor.name());
            }
            StoredTensor x = file.get("x");
            assertArrayEquals(new long[] {2, 4, 8, 8}, x.shape());
            assertEquals(512, x.toFloatArray().length);
            StoredTensor t = file.get("t");
            assertEquals(DType.I64, t.dtype());
            assertArrayEquals(new long[] {2}, t.shape());
            for (long step : t.toLongArray()) {
                assertTrue(step >= 0 && step < 1000, "timestep " + step);
            }
            long[] labels = file.get("y").toLongArray();
            assertEquals(10, labels[1], "second label is the null class");
            assertTrue(file.get("x").data().isReadOnly());
        }
    }

    @Test
    void readsGoldenWeightsInHeaderOrderWithCaseJsonShapes() {
        Map<String, Object> caseJson = JsonParser.parseObject(GoldenFiles.text(GoldenFiles.DIT, "case.json"));
        Map<?, ?> weightKeys = (Map<?, ?>) caseJson.get("weight_keys");
        try (TensorFile file = SafetensorsReader.open(GoldenFiles.path(GoldenFiles.DIT, "weights.safetensors"))) {
            assertEquals(List.copyOf(weightKeys.keySet()), file.names());
            for (Map.Entry<?, ?> entry : weightKeys.entrySet()) {
                StoredTensor tensor = file.get((String) entry.getKey());
                assertEquals(DType.F32, tensor.dtype());
                assertArrayEquals(longs((List<?>) entry.getValue()), tensor.shape(), tensor.name());
                for (float v : tensor.toFloatArray()) {
                    assertTrue(Float.isFinite(v), tensor.name());
                }
            }
            assertTrue(file.contains("pos_embed"));
            assertFalse(file.contains("nope"));
            assertTrue(file.metadata().isEmpty());
        }
    }

    @Test
    void windowedMappingGivesTheSameBytesAsOneMapping() {
        Path path = GoldenFiles.path(GoldenFiles.DIT, "weights.safetensors");
        try (TensorFile whole = SafetensorsReader.open(path);
                ByteSource windowed = MappedFileSource.open(path, 0, 8192)) {
            TensorFile chunked = SafetensorsReader.read(windowed);
            for (String name : whole.names()) {
                assertEquals(whole.get(name).data(), chunked.get(name).data(), name);
            }
        }
    }

    @Test
    void missingTensorNamesTheTensorAndTheFile() {
        Path path = GoldenFiles.path(GoldenFiles.DIT, "io.safetensors");
        try (TensorFile file = SafetensorsReader.open(path)) {
            TensorNotFoundException e = assertThrows(TensorNotFoundException.class, () -> file.get("blocks.9.out"));
            assertTrue(e.getMessage().contains("blocks.9.out"), e.getMessage());
            assertTrue(e.getMessage().contains(path.toString()), e.getMessage());
            assertEquals("blocks.9.out", e.tensorName());
        }
    }

    @Test
    void readsMetadataScalarsAndEmptyTensors() throws IOException {
        String header = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"\\u00e9\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]},"
                + "\"s\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[8,12]},"
                + "\"e\":{\"dtype\":\"F16\",\"shape\":[0,3],\"data_offsets\":[8,8]}}";
        ByteBuffer data = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putFloat(1.5f).putFloat(-2f)
                .putInt(7).putFloat(0.25f);
        Path path = write("meta.safetensors", header, data.array());
        try (TensorFile file = SafetensorsReader.open(path)) {
            assertEquals(List.of("a", "b", "s", "e"), file.names());
            assertEquals(Map.of("format", "pt", "note", "é"), file.metadata());
            assertArrayEquals(new float[] {1.5f, -2f}, file.get("a").toFloatArray());
            assertArrayEquals(new float[] {0.25f}, file.get("b").toFloatArray());
            assertEquals(7, file.get("s").toLongArray()[0]);
            assertEquals(0, file.get("e").elementCount());
        }
    }

    // ---- the data section must be tiled exactly by the tensors, as the reference implementation requires ----

    private static final String A = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
    private static final String B = "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":";

    @Test
    void headerLengthOffByOneIsRefused() throws IOException {
        byte[] valid = new SafetensorsWriter().addFloats("a", new long[] {2}, new float[] {1.5f, -2f})
                .addFloats("b", new long[] {1}, new float[] {3f}).toByteArray();
        long length = ByteBuffer.wrap(valid).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        for (long delta : new long[] {-1, 1}) {
            byte[] bytes = valid.clone();
            ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putLong(0, length + delta);
            expectError(Files.write(dir.resolve("off" + delta), bytes), "");
        }
        try (TensorFile file = SafetensorsReader.open(Files.write(dir.resolve("valid"), valid))) {
            assertArrayEquals(new float[] {3f}, file.get("b").toFloatArray());
        }
    }

    @Test
    void shiftedOffsetsLeaveAGapAtTheStart() throws IOException {
        expectError(write("shifted", "{" + A + "[4,12]}," + B + "[12,16]}}", new byte[16]),
                "tensor 'a' at data_offsets [4, 12] leaves a gap of 4 unused bytes after the start");
    }

    @Test
    void overlappingTensorsAreRefused() throws IOException {
        expectError(write("overlap", "{" + A + "[0,8]}," + B + "[4,8]}}", new byte[8]),
                "tensor 'b' at data_offsets [4, 8] overlaps tensor 'a' (which ends at 8)");
    }

    @Test
    void aliasedTensorsAreRefused() throws IOException {
        String b2 = "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":";
        expectError(write("alias", "{" + A + "[0,8]}," + b2 + "[0,8]}}", new byte[8]), "aliases tensor 'a'");
    }

    @Test
    void trailingBytesAreRefused() throws IOException {
        expectError(write("trailing", "{" + A + "[0,8]}," + B + "[8,12]}}", new byte[13]),
                "leaving 1 trailing bytes after tensor 'b'");
    }

    @Test
    void gapBetweenTensorsIsRefused() throws IOException {
        expectError(write("gap", "{" + A + "[0,8]}," + B + "[12,16]}}", new byte[16]),
                "tensor 'b' at data_offsets [12, 16] leaves a gap of 4 unused bytes after tensor 'a'");
    }

    @Test
    void headerMustStartWithABrace() throws IOException {
        expectError(write("space", " {}", new byte[0]), "does not start with '{'");
    }

    @Test
    void shapeOfRank100000IsCappedInMessages() throws IOException {
        StringBuilder shape = new StringBuilder("[");
        for (int i = 0; i < 100_000; i++) {
            shape.append(i == 0 ? "" : ",").append(i == 99_999 ? "-1" : "1");
        }
        CheckpointFormatException e = expectError(write("rank", entry("F32", shape + "]", "[0,4]"), new byte[4]),
                "(100000 dims)");
        assertTrue(e.getMessage().length() < 400, e.getMessage().length() + " chars: " + e.getMessage());
    }

    @Test
    void closedFileRefusesLookups() {
        TensorFile file = SafetensorsReader.open(GoldenFiles.path(GoldenFiles.DIT, "io.safetensors"));
        StoredTensor x = file.get("x");
        file.close();
        assertThrows(CheckpointException.class, () -> file.get("x"));
        assertEquals(512, x.toFloatArray().length, "tensors handed out stay readable");
    }

    // ---- malformed files: each must fail with a typed exception naming the problem ----

    @Test
    void fileTooShortForTheLength() throws IOException {
        expectError(Files.write(dir.resolve("short"), new byte[] {1, 2, 3}), "too short");
    }

    @Test
    void headerLengthPastEndOfFile() throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(1000);
        expectError(Files.write(dir.resolve("past"), bytes.array()), "runs past the end of the file");
    }

    @Test
    void absurdHeaderLength() throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(200_000_000L);
        expectError(Files.write(dir.resolve("absurd"), bytes.array()), "absurd");
        ByteBuffer negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-8);
        expectError(Files.write(dir.resolve("negative"), negative.array()), "18446744073709551608");
    }

    @Test
    void badJson() throws IOException {
        CheckpointFormatException e = expectError(write("json", "{\"a\": {\"dtype\" \"F32\"}}", new byte[0]),
                "not valid JSON");
        assertTrue(e.getMessage().contains("character 15"), e.getMessage());
        assertTrue(e.getCause() instanceof JsonParseException);
        expectError(write("array", "[1, 2]", new byte[0]), "does not start with '{'");
        byte[] badUtf8 = {'{', '"', (byte) 0xC3, '"', ':', '1', '}', ' '};
        ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(8).put(badUtf8);
        expectError(Files.write(dir.resolve("utf8"), bytes.array()), "UTF-8");
    }

    @Test
    void unknownDtype() throws IOException {
        expectError(write("dtype", entry("F8_E4M3", "[4]", "[0,4]"), new byte[4]), "unknown dtype 'F8_E4M3'");
        expectError(write("dtype2", entry(null, "[4]", "[0,4]"), new byte[4]), "\"dtype\" must be a string");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        expectError(write("range", entry("F32", "[4]", "[0,16]"), new byte[8]), "run past the end of the data");
        expectError(write("reversed", entry("F32", "[1]", "[8,4]"), new byte[8]), "need 0 <= begin <= end");
        expectError(write("negative", entry("F32", "[1]", "[-4,0]"), new byte[8]), "need 0 <= begin <= end");
        expectError(write("three", entry("F32", "[1]", "[0,4,8]"), new byte[8]), "exactly [begin, end]");
        expectError(write("float", entry("F32", "[1]", "[0,4.0]"), new byte[8]), "must hold integers");
        expectError(write("frac", entry("F32", "[1]", "[0,4.5]"), new byte[8]), "must hold integers");
        expectError(write("big", entry("F32", "[1]", "[0,99999999999999999999]"), new byte[8]),
                "out of range: it must lie in [-9223372036854775808, 9223372036854775807]");
    }

    @Test
    void byteCountDisagreesWithShape() throws IOException {
        expectError(write("count", entry("F32", "[3]", "[0,8]"), new byte[8]), "needs 12");
        expectError(write("huge", entry("F32", "[4611686018427387904,4]", "[0,8]"), new byte[8]),
                "more than 2^63");
    }

    @Test
    void negativeDimension() throws IOException {
        expectError(write("dims", entry("F32", "[-2,-2]", "[0,16]"), new byte[16]), "negative dimension -2");
    }

    @Test
    void malformedEntriesAndMetadata() throws IOException {
        expectError(write("entry", "{\"a\":5}", new byte[0]), "must be an object");
        expectError(write("shape", entry("F32", "4", "[0,16]"), new byte[16]), "\"shape\" must be an array");
        expectError(write("meta", "{\"__metadata__\":{\"k\":1}}", new byte[0]), "must be a string");
        expectError(write("meta2", "{\"__metadata__\":[]}", new byte[0]), "must be an object of strings");
    }

    private static CheckpointFormatException expectError(Path path, String expected) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> SafetensorsReader.open(path).close());
        assertTrue(e.getMessage().contains(expected), "message should mention '" + expected + "': " + e.getMessage());
        assertTrue(e.getMessage().contains(path.toString()), "message should name the file: " + e.getMessage());
        return e;
    }

    private static String entry(String dtype, String shape, String offsets) {
        return "{\"w\":{\"dtype\":" + (dtype == null ? "3" : "\"" + dtype + "\"") + ",\"shape\":" + shape
                + ",\"data_offsets\":" + offsets + "}}";
    }

    private Path write(String name, String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(json.length).put(json).put(data);
        return Files.write(dir.resolve(name), bytes.array());
    }

    static long[] longs(List<?> values) {
        long[] out = new long[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) values.get(i)).longValue();
        }
        return out;
    }
}
