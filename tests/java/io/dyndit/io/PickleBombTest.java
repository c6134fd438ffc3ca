package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Pickles made of one-byte opcodes that each allocate (MEMOIZE, DUP, EMPTY_DICT) must be refused by a named limit
 * long before they exhaust the heap, whether data.pkl is deflated (a decompression bomb) or stored.
 */
class PickleBombTest {
    private static final int MIB = 1 << 20;

    @Test
    void deflatedBombsAreRefusedBeforeInflating() {
        // 256 MiB meets the absolute cap on data.pkl; 48 MiB is under it but meets the compression-ratio cap.
        String[] expected = {"more than the limit of " + TorchCheckpointReader.MAX_PICKLE_BYTES,
            "more than the " + TorchCheckpointReader.MAX_PICKLE_RATIO + ":1 limit"};
        int[] sizes = {256 * MIB, 48 * MIB};
        for (int i = 0; i < sizes.length; i++) {
            byte[] zip = new TestZipWriter()
                    .addDeflated("archive/data.pkl", repeat(new byte[] {'}', (byte) 0x94, '2'}, sizes[i]))
                    .add("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII)).toBytes();
            assertTrue(zip.length < 1 * MIB, "the bomb file is small: " + zip.length + " bytes");
            long before = usedHeap();
            CheckpointFormatException e = refused(zip);
            assertTrue(e.getMessage().contains(expected[i]), "expected '" + expected[i] + "' in: " + e.getMessage());
            assertTrue(usedHeap() - before < 32L * MIB, "refusing allocated " + (usedHeap() - before) + " bytes");
        }
    }

    @Test
    void deflatedBombUnderTheRatioLimitStillMeetsTheAbsoluteLimit() {
        byte[] random = new byte[2 * MIB];
        new java.util.Random(1).nextBytes(random); // incompressible, so the ratio check passes
        byte[] big = new byte[TorchCheckpointReader.MAX_PICKLE_BYTES + 1];
        System.arraycopy(random, 0, big, 0, random.length);
        byte[] zip = new TestZipWriter().addDeflated("archive/data.pkl", big).toBytes();
        CheckpointFormatException e = refused(zip);
        assertTrue(e.getMessage().contains("more than the limit of " + TorchCheckpointReader.MAX_PICKLE_BYTES),
                e.getMessage());
    }

    @Test
    void storedMemoizeBombHitsTheMemoLimit() {
        byte[] pickle = pickle(new byte[] {'}'}, new byte[] {(byte) 0x94}, 8 * MIB);
        assertLimit(pickle, "more than " + RestrictedUnpickler.MAX_MEMO + " memo entries");
    }

    @Test
    void storedDupBombHitsTheStackLimit() {
        byte[] pickle = pickle(new byte[] {'}'}, new byte[] {'2'}, 8 * MIB);
        assertLimit(pickle, "more than " + RestrictedUnpickler.MAX_STACK + " stack entries");
    }

    @Test
    void storedEmptyDictBombHitsTheStackLimit() {
        byte[] pickle = pickle(new byte[0], new byte[] {'}'}, 8 * MIB);
        assertLimit(pickle, "more than " + RestrictedUnpickler.MAX_STACK + " stack entries");
    }

    @Test
    void dictsAppendedToOneListHitTheValueLimit() {
        byte[] pickle = pickle(new byte[] {']'}, new byte[] {'}', 'a'}, 20 * MIB);
        assertLimit(pickle, "more than " + RestrictedUnpickler.MAX_VALUES + " values created and stored");
    }

    @Test
    void nestedMarksHitTheMarkLimit() {
        byte[] pickle = pickle(new byte[0], new byte[] {'('}, 1 * MIB);
        assertLimit(pickle, "more than " + RestrictedUnpickler.MAX_MARKS + " MARKs open at once");
    }

    private static void assertLimit(byte[] pickle, String expected) {
        byte[] zip = TestZipWriter.torchCheckpoint(pickle, Map.of());
        CheckpointFormatException e = refused(zip);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
        assertTrue(e.getMessage().contains("data.pkl") && e.getMessage().contains("pickle byte "), e.getMessage());
    }

    private static CheckpointFormatException refused(byte[] zip) {
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> TorchCheckpointReader.read(ByteBuffer.wrap(zip), "bomb.pt").close());
        assertTrue(e.getMessage().startsWith("bomb.pt"), e.getMessage());
        return e;
    }

    /** PROTO 2, {@code head}, then {@code body} repeated to about {@code size} bytes, then STOP. */
    private static byte[] pickle(byte[] head, byte[] body, int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(size + 16);
        out.write(0x80);
        out.write(2);
        out.writeBytes(head);
        out.writeBytes(repeat(body, size));
        out.write('.');
        return out.toByteArray();
    }

    private static byte[] repeat(byte[] unit, int size) {
        byte[] out = new byte[size / unit.length * unit.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = unit[i % unit.length];
        }
        return out;
    }

    private static long usedHeap() {
        Runtime runtime = Runtime.getRuntime();
        return runtime.totalMemory() - runtime.freeMemory();
    }
}
