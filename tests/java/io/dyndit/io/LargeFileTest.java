package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Files past 2 GiB (one ByteBuffer's reach) and past 4 GiB (ZIP64), written sparse: only a few kilobytes are real,
 * the gaps are holes, so the tests take milliseconds and almost no disk. Skipped where the temp file system has
 * too little room in case it does not support holes.
 */
class LargeFileTest {
    private static final long GIB = 1L << 30;

    @TempDir
    Path dir;

    /**
     * Probes for holes instead of demanding 16 GiB free: one byte written 8 GiB into a fresh file must not take the
     * gap from the free space (a file system without holes would need it all).
     */
    @BeforeEach
    void needsSparseFiles() throws IOException {
        Path probe = dir.resolve("sparse-probe");
        long free = Files.getFileStore(dir).getUsableSpace();
        assumeTrue(free > GIB / 4, "less than 256 MiB free in the temp directory");
        boolean holes;
        try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(probe.toFile(), "rw")) {
            f.seek(8 * GIB);
            f.write(1);
            f.getFD().sync();
            holes = free - Files.getFileStore(dir).getUsableSpace() < GIB / 4;
        } catch (IOException e) {
            holes = false; // e.g. a file size limit
        } finally {
            Files.deleteIfExists(probe);
        }
        assumeTrue(holes, "the temp file system does not keep holes (sparse files)");
    }

    @Test
    void safetensorsPast2GiBIsMappedInWindows() throws IOException {
        long crossing = 3 * (MappedFileSource.DEFAULT_WINDOW / 2) - 8; // straddles a window start
        long big = 2 * GIB + 4096;
        long bigBytes = 600L << 20; // longer than half a window: mapped on its own
        long far = big + bigBytes; // past 2.5 GiB
        String header = "{\"near\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},"
                + pad("pad1", 16, crossing)
                + "\"crossing\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[" + crossing + "," + (crossing + 16)
                + "]}," + pad("pad2", crossing + 16, big)
                + "\"big\":{\"dtype\":\"F32\",\"shape\":[" + bigBytes / 4 + "],\"data_offsets\":[" + big + ","
                + (big + bigBytes) + "]},\"far\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[" + far + ","
                + (far + 16) + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        long dataStart = 8 + json.length;
        Path path = dir.resolve("large.safetensors");
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            write(out, 0, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            write(out, 8, json);
            write(out, dataStart, TorchCheckpointReaderTest.floats(1, 2, 3, 4));
            write(out, dataStart + crossing, TorchCheckpointReaderTest.floats(5, 6, 7, 8));
            write(out, dataStart + big + bigBytes - 4, TorchCheckpointReaderTest.floats(9));
            write(out, dataStart + far, TorchCheckpointReaderTest.floats(10, 11, 12, 13));
        }
        assertTrue(Files.size(path) > 2 * GIB);
        try (TensorFile file = TensorFiles.open(path)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, file.get("near").toFloatArray());
            assertArrayEquals(new float[] {5, 6, 7, 8}, file.get("crossing").toFloatArray());
            assertArrayEquals(new float[] {10, 11, 12, 13}, file.get("far").toFloatArray());
            StoredTensor bigTensor = file.get("big");
            assertEquals(bigBytes, bigTensor.byteSize());
            ByteBuffer bigData = bigTensor.data();
            assertEquals(9f, bigData.getFloat((int) bigBytes - 4));
            assertEquals(0f, bigData.getFloat(0));
        }
    }

    @Test
    void tensorOver2GiBIsATypedError() throws IOException {
        long bytes = 3 * GIB;
        String header = "{\"huge\":{\"dtype\":\"F32\",\"shape\":[" + bytes / 4 + "],\"data_offsets\":[0," + bytes
                + "]}}";
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        Path path = dir.resolve("huge.safetensors");
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            write(out, 0, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(json.length).array());
            write(out, 8, json);
            write(out, 8 + json.length + bytes - 1, new byte[1]);
        }
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class, () -> TensorFiles.open(path));
        assertTrue(e.getMessage().contains("'huge'") && e.getMessage().contains("2 GiB"), e.getMessage());
    }

    @Test
    void torchCheckpointPast4GiBUsesZip64() throws IOException {
        byte[] pickle = new PickleBuilder().proto().emptyDict().mark()
                .string("w").tensor("FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {2, 1})
                .string("wT").tensor("FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {1, 2})
                .setItems().stop().bytes();
        Path path = dir.resolve("large.pt");
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            SparseZip zip = new SparseZip(out);
            zip.entry("archive/data.pkl", pickle, pickle.length);
            zip.entry("archive/padding", null, 9 * GIB / 2); // an unreferenced 4.5 GiB hole
            zip.entry("archive/data/0", TorchCheckpointReaderTest.floats(1, 2, 3, 4), 16);
            zip.entry("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII), 2);
            zip.finish();
        }
        assertTrue(Files.size(path) > 4 * GIB);
        try (TensorFile file = TensorFiles.open(path)) {
            assertArrayEquals(new float[] {1, 2, 3, 4}, file.get("w").toFloatArray());
            assertArrayEquals(new float[] {1, 3, 2, 4}, file.get("wT").toFloatArray());
        }
    }

    /** A U8 filler tensor over [begin, end): safetensors data must be tiled without gaps. */
    private static String pad(String name, long begin, long end) {
        return "\"" + name + "\":{\"dtype\":\"U8\",\"shape\":[" + (end - begin) + "],\"data_offsets\":["
                + begin + "," + end + "]},";
    }

    private static void write(FileChannel out, long position, byte[] bytes) throws IOException {
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        while (buffer.hasRemaining()) {
            position += out.write(buffer, position);
        }
    }

    /** Writes STORED entries at explicit positions, with ZIP64 fields on every entry, leaving holes for gaps. */
    private static final class SparseZip {
        private final FileChannel out;
        private final ByteBuffer directory = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long position;
        private int count;

        SparseZip(FileChannel out) {
            this.out = out;
        }

        void entry(String name, byte[] data, long size) throws IOException {
            byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
            int crc = 0;
            if (data != null) {
                CRC32 checksum = new CRC32();
                checksum.update(data);
                crc = (int) checksum.getValue();
            }
            ByteBuffer local = ByteBuffer.allocate(30 + nameBytes.length + 20).order(ByteOrder.LITTLE_ENDIAN);
            local.putInt(0x04034b50).putShort((short) 45).putShort((short) 0).putShort((short) 0).putInt(0)
                    .putInt(crc).putInt(-1).putInt(-1).putShort((short) nameBytes.length).putShort((short) 20)
                    .put(nameBytes).putShort((short) 1).putShort((short) 16).putLong(size).putLong(size);
            long header = position;
            write(out, position, local.array());
            position += local.capacity();
            if (data != null) {
                write(out, position, data);
            }
            position += size;
            directory.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(crc).putInt(-1).putInt(-1)
                    .putShort((short) nameBytes.length).putShort((short) 28).putShort((short) 0).putShort((short) 0)
                    .putShort((short) 0).putInt(0).putInt(-1).put(nameBytes)
                    .putShort((short) 1).putShort((short) 24).putLong(size).putLong(size).putLong(header);
            count++;
        }

        void finish() throws IOException {
            long directoryOffset = position;
            byte[] records = java.util.Arrays.copyOf(directory.array(), directory.position());
            write(out, position, records);
            position += records.length;
            long zip64End = position;
            ByteBuffer tail = ByteBuffer.allocate(56 + 20 + 22).order(ByteOrder.LITTLE_ENDIAN);
            tail.putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45).putInt(0).putInt(0)
                    .putLong(count).putLong(count).putLong(records.length).putLong(directoryOffset);
            tail.putInt(0x07064b50).putInt(0).putLong(zip64End).putInt(1);
            tail.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) -1)
                    .putShort((short) -1).putInt(-1).putInt(-1).putShort((short) 0);
            write(out, position, tail.array());
        }
    }
}
