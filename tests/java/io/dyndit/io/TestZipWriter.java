package io.dyndit.io;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Writes small zip archives for tests, with the knobs java.util.zip does not offer: torch-style 64-byte data
 * alignment through a padding extra field, and ZIP64 records and extra fields forced on small files.
 */
final class TestZipWriter {
    private record Item(String name, byte[] data, boolean deflate) {
    }

    private final List<Item> items = new ArrayList<>();
    private boolean zip64;

    TestZipWriter add(String name, byte[] data) {
        items.add(new Item(name, data, false));
        return this;
    }

    TestZipWriter addDeflated(String name, byte[] data) {
        items.add(new Item(name, data, true));
        return this;
    }

    TestZipWriter forceZip64() {
        zip64 = true;
        return this;
    }

    /** A minimal torch.save-style checkpoint: archive/data.pkl, archive/data/<key> per storage, archive/version. */
    static byte[] torchCheckpoint(byte[] pickle, Map<String, byte[]> storages) {
        TestZipWriter zip = new TestZipWriter().add("archive/data.pkl", pickle);
        storages.forEach((key, bytes) -> zip.add("archive/data/" + key, bytes));
        return zip.add("archive/version", "3\n".getBytes(StandardCharsets.US_ASCII)).toBytes();
    }

    byte[] toBytes() {
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        ByteArrayOutputStream directory = new ByteArrayOutputStream();
        for (Item item : items) {
            byte[] name = item.name.getBytes(StandardCharsets.UTF_8);
            byte[] stored = item.deflate ? deflate(item.data) : item.data;
            CRC32 crc = new CRC32();
            crc.update(item.data);
            long offset = file.size();
            int pad = (int) ((64 - (offset + 30 + name.length + 4) % 64) % 64);
            ByteBuffer local = le(30 + name.length + 4 + pad);
            local.putInt(0x04034b50).putShort((short) 20).putShort((short) 0x800)
                    .putShort((short) (item.deflate ? 8 : 0)).putShort((short) 0).putShort((short) 0)
                    .putInt((int) crc.getValue()).putInt(stored.length).putInt(item.data.length)
                    .putShort((short) name.length).putShort((short) (4 + pad)).put(name)
                    .putShort((short) 0x4246).putShort((short) pad).put(new byte[pad]);
            file.writeBytes(local.array());
            file.writeBytes(stored);

            byte[] extra = new byte[0];
            if (zip64) {
                extra = le(28).putShort((short) 1).putShort((short) 24).putLong(item.data.length)
                        .putLong(stored.length).putLong(offset).array();
            }
            ByteBuffer central = le(46 + name.length + extra.length);
            central.putInt(0x02014b50).putShort((short) 45).putShort((short) 45).putShort((short) 0x800)
                    .putShort((short) (item.deflate ? 8 : 0)).putShort((short) 0).putShort((short) 0)
                    .putInt((int) crc.getValue())
                    .putInt(zip64 ? -1 : stored.length).putInt(zip64 ? -1 : item.data.length)
                    .putShort((short) name.length).putShort((short) extra.length).putShort((short) 0)
                    .putShort((short) 0).putShort((short) 0).putInt(0).putInt(zip64 ? -1 : (int) offset)
                    .put(name).put(extra);
            directory.writeBytes(central.array());
        }
        long directoryOffset = file.size();
        file.writeBytes(directory.toByteArray());
        if (zip64) {
            long zip64End = file.size();
            file.writeBytes(le(56).putInt(0x06064b50).putLong(44).putShort((short) 45).putShort((short) 45)
                    .putInt(0).putInt(0).putLong(items.size()).putLong(items.size()).putLong(directory.size())
                    .putLong(directoryOffset).array());
            file.writeBytes(le(20).putInt(0x07064b50).putInt(0).putLong(zip64End).putInt(1).array());
        }
        file.writeBytes(le(22).putInt(0x06054b50).putShort((short) 0).putShort((short) 0)
                .putShort((short) (zip64 ? 0xFFFF : items.size())).putShort((short) (zip64 ? 0xFFFF : items.size()))
                .putInt(zip64 ? -1 : directory.size()).putInt(zip64 ? -1 : (int) directoryOffset).putShort((short) 0)
                .array());
        return file.toByteArray();
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static byte[] deflate(byte[] data) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        deflater.setInput(data);
        deflater.finish();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buffer = new byte[4096];
        while (!deflater.finished()) {
            out.write(buffer, 0, deflater.deflate(buffer));
        }
        deflater.end();
        return out.toByteArray();
    }
}
