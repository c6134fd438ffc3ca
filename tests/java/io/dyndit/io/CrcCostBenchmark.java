package io.dyndit.io;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What verifying storage CRC-32s costs when loading a .pt: writes a real (not sparse) checkpoint of
 * -Ddyndit.bench.crc.mib MiB (default 2700) and times reading every tensor with and without the check. Off by
 * default (-Ddyndit.bench.crc=true): it needs disk space and minutes.
 */
class CrcCostBenchmark {
    private static final int STORAGE_MIB = 96;

    @TempDir
    Path dir;

    @Test
    void crcCostWhenLoading() throws IOException {
        assumeTrue(Boolean.getBoolean("dyndit.bench.crc"), "benchmark; run with -Ddyndit.bench.crc=true");
        long totalMib = Long.getLong("dyndit.bench.crc.mib", 2700);
        int storages = (int) Math.max(1, totalMib / STORAGE_MIB);
        assumeTrue(Files.getFileStore(dir).getUsableSpace() > (storages * (long) STORAGE_MIB << 20) * 2,
                "not enough disk");
        long seed = new Random().nextLong();
        System.out.println("CrcCostBenchmark seed " + seed + ", " + storages + " x " + STORAGE_MIB + " MiB");
        Path path = dir.resolve("bench.pt");
        write(path, storages, new Random(seed));
        System.out.printf("file %.0f MB%n", Files.size(path) / 1e6);

        byte[] buffer = new byte[512 << 20];
        new Random(seed).nextBytes(buffer);
        CRC32 warm = new CRC32();
        warm.update(buffer, 0, 1 << 20);
        long t0 = System.nanoTime();
        CRC32 crc = new CRC32();
        for (int done = 0; done < buffer.length; done += SafeCopy.CHUNK) {
            crc.update(buffer, done, SafeCopy.CHUNK);
        }
        double crcSeconds = (System.nanoTime() - t0) / 1e9;
        System.out.printf("CRC-32 alone over 512 MiB in memory: %.3f s = %.0f MB/s (crc %08x)%n", crcSeconds,
                buffer.length / 1e6 / crcSeconds, crc.getValue());
        buffer = null;

        for (int round = 0; round < Integer.getInteger("dyndit.bench.crc.rounds", 3); round++) {
            double plain = readAll(path, false);
            double checked = readAll(path, true);
            double bytes = storages * (double) (STORAGE_MIB << 20);
            System.out.printf("round %d: read all tensors %.3f s (%.0f MB/s); with CRC %.3f s (%.0f MB/s); CRC "
                    + "adds %.3f s = %.1f%% of the checked load%n", round, plain, bytes / 1e6 / plain, checked,
                    bytes / 1e6 / checked, checked - plain, 100 * (checked - plain) / checked);
        }
    }

    /**
     * Opens the checkpoint and reads every tensor's bytes into a fresh heap array: through data() (which checks the
     * CRC on first read) or through the same reads without a checksum.
     */
    private static double readAll(Path path, boolean checked) {
        long t0 = System.nanoTime();
        long sum = 0;
        try (ByteSource source = MappedFileSource.open(path)) {
            TensorFile file = TorchCheckpointReader.read(source);
            ZipArchive zip = checked ? null : ZipArchive.read(source);
            for (String name : file.names()) {
                StoredTensor tensor = file.get(name);
                if (checked) {
                    sum += tensor.data().get(0);
                } else {
                    long offset = zip.storedDataOffset(zip.find("archive/data/" + name.substring(1)));
                    byte[] raw = new byte[(int) tensor.byteSize()]; // a fresh array, as data() makes
                    source.read(offset, raw, 0, raw.length, null, name);
                    sum += raw[0];
                }
            }
        }
        if (sum == Long.MIN_VALUE) {
            System.out.println(sum);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    private static void write(Path path, int storages, Random random) throws IOException {
        PickleBuilder pickle = new PickleBuilder().proto().emptyDict().mark();
        long numel = (STORAGE_MIB << 20) / 4;
        for (int i = 0; i < storages; i++) {
            pickle.string("w" + i).tensor("FloatStorage", Integer.toString(i), numel, 0, new long[] {numel},
                    new long[] {1});
        }
        byte[] pkl = pickle.setItems().stop().bytes();
        byte[] data = new byte[STORAGE_MIB << 20];
        random.nextBytes(data);
        ByteBuffer directory = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
        try (FileChannel out = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            long[] position = {0};
            int count = 0;
            count += entry(out, position, directory, "archive/data.pkl", pkl);
            for (int i = 0; i < storages; i++) {
                ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt(0, i); // each storage differs
                count += entry(out, position, directory, "archive/data/" + i, data);
            }
            long directoryOffset = position[0];
            directory.flip();
            int directorySize = directory.remaining();
            write(out, position, directory);
            ByteBuffer end = ByteBuffer.allocate(22).order(ByteOrder.LITTLE_ENDIAN);
            end.putInt(0x06054b50).putShort((short) 0).putShort((short) 0).putShort((short) count)
                    .putShort((short) count).putInt(directorySize).putInt((int) directoryOffset).putShort((short) 0);
            write(out, position, end.flip());
            if (directoryOffset > 0xFFFFFFFFL) {
                throw new IllegalStateException("benchmark writer does not do ZIP64; use a smaller size");
            }
        }
    }

    private static int entry(FileChannel out, long[] position, ByteBuffer directory, String name, byte[] data)
            throws IOException {
        byte[] nameBytes = name.getBytes(StandardCharsets.UTF_8);
        CRC32 crc = new CRC32();
        crc.update(data);
        long header = position[0];
        ByteBuffer local = ByteBuffer.allocate(30 + nameBytes.length).order(ByteOrder.LITTLE_ENDIAN);
        local.putInt(0x04034b50).putShort((short) 20).putShort((short) 0).putShort((short) 0).putInt(0)
                .putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) nameBytes.length).putShort((short) 0).put(nameBytes);
        write(out, position, local.flip());
        write(out, position, ByteBuffer.wrap(data));
        directory.putInt(0x02014b50).putShort((short) 20).putShort((short) 20).putShort((short) 0)
                .putShort((short) 0).putInt(0).putInt((int) crc.getValue()).putInt(data.length).putInt(data.length)
                .putShort((short) nameBytes.length).putShort((short) 0).putShort((short) 0).putShort((short) 0)
                .putShort((short) 0).putInt(0).putInt((int) header).put(nameBytes);
        return 1;
    }

    private static void write(FileChannel out, long[] position, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            position[0] += out.write(bytes, position[0]);
        }
    }
}
