package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TorchCheckpointReaderTest {
    @Test
    void ditWeightsPtEqualsSafetensorsBitForBit() {
        assertSameTensors(GoldenFiles.DIT, null);
    }

    @Test
    void dyditCheckpointIsReadFromItsEmaEntry() {
        assertSameTensors(GoldenFiles.DYDIT, "ema");
        Map<String, Object> caseJson = JsonParser.parseObject(GoldenFiles.text(GoldenFiles.DYDIT, "case.json"));
        Map<?, ?> weightKeys = (Map<?, ?>) caseJson.get("weight_keys");
        try (TensorFile file = TorchCheckpointReader.open(GoldenFiles.path(GoldenFiles.DYDIT, "weights.pt"))) {
            assertEquals(weightKeys.size(), file.names().size());
            for (Map.Entry<?, ?> entry : weightKeys.entrySet()) {
                assertArrayEquals(SafetensorsReaderTest.longs((List<?>) entry.getValue()),
                        file.get((String) entry.getKey()).shape(), (String) entry.getKey());
            }
            assertTrue(file.contains("blocks.0.attn_rate.router.weight"));
            assertEquals("3", file.metadata().get("torch.file_version"));
        }
    }

    @Test
    void windowedMappingReadsTheSameTensors() {
        Path path = GoldenFiles.path(GoldenFiles.DIT, "weights.pt");
        try (TensorFile whole = TorchCheckpointReader.open(path);
                ByteSource windowed = MappedFileSource.open(path, 0, 4096)) {
            TensorFile chunked = TorchCheckpointReader.read(windowed);
            assertEquals(whole.names(), chunked.names());
            for (String name : whole.names()) {
                assertEquals(whole.get(name).data(), chunked.get(name).data(), name);
            }
        }
    }

    @Test
    void rebuildsViewsParametersAndSkipsNumbers() {
        byte[] pickle = new PickleBuilder().proto()
                .global("collections", "OrderedDict").emptyTuple().reduce().mark()
                .string("a").tensor("FloatStorage", "0", 6, 0, new long[] {2, 3}, new long[] {3, 1})
                .string("aT").tensor("FloatStorage", "0", 6, 0, new long[] {3, 2}, new long[] {1, 3})
                .string("tail").tensor("FloatStorage", "0", 6, 4, new long[] {2}, new long[] {1})
                .string("row").tensor("FloatStorage", "0", 6, 1, new long[] {1, 2}, new long[] {7, 2})
                .string("p").global("torch._utils", "_rebuild_parameter").mark()
                .tensor("LongStorage", "1", 2, 0, new long[] {2}, new long[] {1})
                .bool(true).global("collections", "OrderedDict").emptyTuple().reduce().tuple().reduce()
                .string("step").integer(7)
                .string("lr").binFloat(0.1)
                .string("big").integer(1L << 40)
                .setItems()
                .emptyDict().string("_metadata").emptyDict().setItem().build()
                .stop().bytes();
        byte[] zip = TestZipWriter.torchCheckpoint(pickle,
                Map.of("0", floats(0, 1, 2, 3, 4, 5), "1", longs(-3, 1L << 50)));
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip), "synthetic.pt")) {
            assertEquals(List.of("a", "aT", "tail", "row", "p"), file.names());
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, file.get("a").toFloatArray());
            assertArrayEquals(new long[] {3, 2}, file.get("aT").shape());
            assertArrayEquals(new float[] {0, 3, 1, 4, 2, 5}, file.get("aT").toFloatArray());
            assertArrayEquals(new float[] {4, 5}, file.get("tail").toFloatArray());
            assertArrayEquals(new float[] {1, 3}, file.get("row").toFloatArray());
            assertEquals(DType.I64, file.get("p").dtype());
            assertArrayEquals(new long[] {-3, 1L << 50}, file.get("p").toLongArray());
            assertEquals("pytorch", file.metadata().get("format"));
        }
    }

    @Test
    void readsDiTTrainingCheckpointsWithArgsNamespace() {
        // train.py: {"model": sd, "ema": sd, "opt": {...}, "args": argparse.Namespace(...)}; NEWOBJ then BUILD
        byte[] ckpt = new PickleBuilder().proto().emptyDict().mark()
                .string("model").emptyDict().string("w").tensor("FloatStorage", "0", 1, 0, new long[] {1},
                        new long[] {1}).setItem()
                .string("ema").emptyDict().string("w").tensor("FloatStorage", "1", 1, 0, new long[] {1},
                        new long[] {1}).setItem()
                .string("opt").emptyDict().string("param_groups").emptyDict().setItem()
                .string("args").global("argparse", "Namespace").emptyTuple().op(0x81)
                .emptyDict().string("model").string("DiT-XL/2").setItem().string("epochs").integer(1400).setItem()
                .build()
                .setItems().stop().bytes();
        Map<String, byte[]> storages = Map.of("0", floats(1), "1", floats(2));
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(
                TestZipWriter.torchCheckpoint(ckpt, storages)), "train.pt")) {
            assertArrayEquals(new float[] {2}, file.get("w").toFloatArray());
            assertEquals("ema", file.metadata().get("torch.state_dict_key"));
        }
        // NEWOBJ of anything that is not an allow-listed attribute bag stays refused
        byte[] evil = new PickleBuilder().proto().global("collections", "OrderedDict").emptyTuple().op(0x81).stop()
                .bytes();
        assertThrows(CheckpointException.class, () -> TorchCheckpointReader.read(ByteBuffer.wrap(
                TestZipWriter.torchCheckpoint(evil, Map.of())), "evil.pt"));
    }

    @Test
    void prefersEmaOverModelAndFallsBackToModel() {
        byte[] both = new PickleBuilder().proto().emptyDict().mark()
                .string("model").emptyDict().string("w").tensor("FloatStorage", "0", 1, 0, new long[] {1},
                        new long[] {1}).setItem()
                .string("ema").emptyDict().string("w").tensor("FloatStorage", "1", 1, 0, new long[] {1},
                        new long[] {1}).setItem()
                .string("epoch").integer(3)
                .setItems().stop().bytes();
        Map<String, byte[]> storages = Map.of("0", floats(1), "1", floats(2));
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(
                TestZipWriter.torchCheckpoint(both, storages)), "both.pt")) {
            assertArrayEquals(new float[] {2}, file.get("w").toFloatArray());
            assertEquals("ema", file.metadata().get("torch.state_dict_key"));
        }
        byte[] modelOnly = new PickleBuilder().proto().emptyDict()
                .string("model").emptyDict().string("w").tensor("FloatStorage", "0", 1, 0, new long[] {1},
                        new long[] {1}).setItem()
                .setItem().stop().bytes();
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(
                TestZipWriter.torchCheckpoint(modelOnly, storages)), "model.pt")) {
            assertArrayEquals(new float[] {1}, file.get("w").toFloatArray());
            assertEquals("model", file.metadata().get("torch.state_dict_key"));
        }
    }

    @Test
    void aTensorNamedModelDoesNotMakeAWrapper() {
        byte[] pickle = new PickleBuilder().proto().emptyDict().mark()
                .string("model").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .string("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1})
                .setItems().stop().bytes();
        byte[] zip = TestZipWriter.torchCheckpoint(pickle, Map.of("0", floats(5)));
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip), "raw.pt")) {
            assertEquals(List.of("model", "w"), file.names());
            assertEquals(null, file.metadata().get("torch.state_dict_key"));
        }
    }

    @Test
    void nonTensorEntryIsAnErrorNamingTheKey() {
        byte[] pickle = new PickleBuilder().proto().emptyDict().string("version_tag").string("v2").setItem()
                .stop().bytes();
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpointReader.read(ByteBuffer.wrap(TestZipWriter.torchCheckpoint(pickle, Map.of())),
                        "tagged.pt"));
        assertTrue(e.getMessage().contains("'version_tag'") && e.getMessage().contains("tagged.pt"), e.getMessage());
        byte[] list = new PickleBuilder().proto().op(']').stop().bytes();
        assertError(TestZipWriter.torchCheckpoint(list, Map.of()), "top-level object is a list");
    }

    @Test
    void readsDeflatedPickleInAZip64Archive() {
        byte[] pickle = new PickleBuilder().proto().emptyDict()
                .string("w").tensor("HalfStorage", "0", 2, 0, new long[] {2}, new long[] {1}).setItem()
                .stop().bytes();
        byte[] zip = new TestZipWriter().forceZip64().addDeflated("ckpt/data.pkl", pickle)
                .add("ckpt/data/0", new byte[] {0x00, 0x3C, 0x00, (byte) 0xC0})
                .add("ckpt/byteorder", "little".getBytes(StandardCharsets.US_ASCII)).toBytes();
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip), "zip64.pt")) {
            assertEquals(DType.F16, file.get("w").dtype());
            assertArrayEquals(new float[] {1, -2}, file.get("w").toFloatArray());
            assertEquals("little", file.metadata().get("torch.byteorder"));
        }
    }

    @Test
    void structuralErrorsAreTyped() {
        byte[] outOfBounds = stateDict("FloatStorage", "0", 4, 2, new long[] {3}, new long[] {1});
        assertError(TestZipWriter.torchCheckpoint(outOfBounds, Map.of("0", floats(1, 2, 3, 4))), "reaches past");

        byte[] missing = stateDict("FloatStorage", "7", 1, 0, new long[] {1}, new long[] {1});
        assertError(TestZipWriter.torchCheckpoint(missing, Map.of()), "no zip entry 'archive/data/7'");

        byte[] tooFew = stateDict("DoubleStorage", "0", 4, 0, new long[] {4}, new long[] {1});
        assertError(TestZipWriter.torchCheckpoint(tooFew, Map.of("0", floats(1, 2, 3, 4))), "its entry holds 16");

        byte[] expanded = stateDict("FloatStorage", "0", 1, 0, new long[] {1 << 20, 1 << 20}, new long[] {0, 0});
        assertError(TestZipWriter.torchCheckpoint(expanded, Map.of("0", floats(1))), "non-contiguous view");

        byte[] bigEndian = new TestZipWriter().add("a/data.pkl", new PickleBuilder().proto().emptyDict().stop()
                .bytes()).add("a/byteorder", "big".getBytes(StandardCharsets.US_ASCII)).toBytes();
        assertError(bigEndian, "only little-endian");

        assertError(new TestZipWriter().add("a/version", new byte[] {'3'}).toBytes(), "no <root>/data.pkl");

        byte[] badOpcode = new PickleBuilder().proto().op('I').raw("5\n".getBytes(StandardCharsets.US_ASCII))
                .stop().bytes();
        assertError(TestZipWriter.torchCheckpoint(badOpcode, Map.of()), "opcode 0x49");

        byte[] noStop = new PickleBuilder().proto().emptyDict().bytes();
        assertError(TestZipWriter.torchCheckpoint(noStop, Map.of()), "without a STOP");
    }

    @Test
    void corruptPickleFailsItsCrc() {
        byte[] zip = TestZipWriter.torchCheckpoint(new PickleBuilder().proto().emptyDict().stop().bytes(), Map.of());
        int at = indexOf(zip, new byte[] {(byte) 0x80, 2, '}', '.'});
        zip[at + 2] = ']';
        assertError(zip, "CRC-32");
    }

    @Test
    void storageFailingItsCrcIsRefusedWhenRead() {
        for (long[] view : new long[][] {{0, 4}, {1, 2}}) { // the whole storage, then a partial view of it
            byte[] pickle = stateDict("FloatStorage", "0", 4, view[0], new long[] {view[1]}, new long[] {1});
            byte[] zip = TestZipWriter.torchCheckpoint(pickle, Map.of("0", floats(1, 2, 3, 4)));
            try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip.clone()), "broken.pt")) {
                assertEquals(view[1], file.get("w").toFloatArray().length, "intact file reads");
            }
            zip[indexOf(zip, floats(1, 2, 3, 4)) + 13] ^= 1; // a bit of the 4th float, outside the partial view
            try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip), "broken.pt")) {
                CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                        () -> file.get("w").toFloatArray());
                for (String part : new String[] {"broken.pt", "tensor 'w'", "'archive/data/0'", "CRC-32"}) {
                    assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
                }
            }
        }
    }

    @Test
    void localHeaderMustAgreeWithTheCentralDirectory() {
        byte[] pickle = stateDict("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
        byte[] valid = TestZipWriter.torchCheckpoint(pickle, Map.of("0", floats(1, 2, 3, 4)));
        int local = localHeader(valid, "archive/data/0");

        byte[] method = valid.clone();
        method[local + 8] = 8;
        assertError(method, "says compression method 8, the central directory 0");

        byte[] size = valid.clone();
        size[local + 22] = 17;
        assertError(size, "disagrees with the central directory");

        byte[] crc = valid.clone();
        crc[local + 14] ^= 0x40;
        assertError(crc, "disagrees with the central directory");

        byte[] name = valid.clone();
        name[local + 30 + "archive/data/".length()] = '1';
        assertError(name, "names 'archive/data/1', not the central directory's 'archive/data/0'");
    }

    @Test
    void centralRecordPointingAtAnotherEntrysLocalHeaderIsRefused() {
        byte[] pickle = stateDict("FloatStorage", "0", 4, 0, new long[] {4}, new long[] {1});
        byte[] zip = TestZipWriter.torchCheckpoint(pickle, Map.of("0", floats(1, 2, 3, 4)));
        int pickleHeader = localHeader(zip, "archive/data.pkl");
        // The central record of the storage now claims data.pkl's local header (and so data.pkl's bytes).
        int central = lastIndexOf(zip, "archive/data/0".getBytes(StandardCharsets.UTF_8)) - 46;
        ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).putInt(central + 42, pickleHeader);
        assertError(zip, "entry 'archive/data/0' points at the local header of entry 'archive/data.pkl'");
    }

    /** Offset of the local header whose name is {@code name} (the first occurrence of the name). */
    private static int localHeader(byte[] zip, String name) {
        int at = indexOf(zip, name.getBytes(StandardCharsets.UTF_8)) - 30;
        assertEquals(0x04034b50, ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN).getInt(at));
        return at;
    }

    private static int lastIndexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = haystack.length - needle.length; i >= 0; i--) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }

    @Test
    void emptyStateDictIsFine() {
        byte[] zip = TestZipWriter.torchCheckpoint(new PickleBuilder().proto().emptyDict().stop().bytes(), Map.of());
        try (TensorFile file = TorchCheckpointReader.read(ByteBuffer.wrap(zip), "empty.pt")) {
            assertTrue(file.names().isEmpty());
            assertFalse(file.contains("x"));
        }
    }

    private static void assertSameTensors(String caseName, String stateDictKey) {
        try (TensorFile pt = TorchCheckpointReader.open(GoldenFiles.path(caseName, "weights.pt"));
                TensorFile st = SafetensorsReader.open(GoldenFiles.path(caseName, "weights.safetensors"))) {
            assertEquals(st.names(), pt.names());
            for (String name : st.names()) {
                StoredTensor expected = st.get(name);
                StoredTensor actual = pt.get(name);
                assertEquals(expected.dtype(), actual.dtype(), name);
                assertArrayEquals(expected.shape(), actual.shape(), name);
                assertEquals(expected.data(), actual.data(), name + " bytes differ");
            }
            assertEquals(stateDictKey, pt.metadata().get("torch.state_dict_key"));
        }
    }

    private static byte[] stateDict(String storageClass, String key, long numel, long offset, long[] size,
            long[] stride) {
        return new PickleBuilder().proto().emptyDict().string("w")
                .tensor(storageClass, key, numel, offset, size, stride).setItem().stop().bytes();
    }

    private static void assertError(byte[] zip, String expected) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpointReader.read(ByteBuffer.wrap(zip), "broken.pt"));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains("broken.pt"), e.getMessage());
    }

    static byte[] floats(float... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            bytes.putFloat(v);
        }
        return bytes.array();
    }

    static byte[] longs(long... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            bytes.putLong(v);
        }
        return bytes.array();
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        throw new AssertionError("pattern not found");
    }
}
