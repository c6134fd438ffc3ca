package io.dyndit.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Writes NumPy's .npz format, as np.savez does: a zip archive (stored, not compressed; zip64 where sizes need it) with
 * one {@code <name>.npy} member per array, readable by numpy.load. Each .npy member is format version 1.0: the magic
 * "\x93NUMPY", bytes 1 and 0, a little-endian uint16 header length, then the header text
 * {@code {'descr': '<f4', 'fortran_order': False, 'shape': (2, 4), }} padded with spaces and ended by '\n' so that
 * magic + length + header is a multiple of 64 bytes, then the values little-endian in C order.
 * Supported element types: float32 ({@code '<f4'}), int64 ({@code '<i8'}) and uint8 ({@code '|u1'}, for images).
 * Files are written to a temporary file next to the target and moved into place, so a failure leaves nothing behind.
 *
 * <p>Thread-safety: not thread-safe: one writer per thread.
 */
public final class NpzWriter {
    static final int ALIGN = 64;
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    private static final int CHUNK = 1 << 16;

    private final Map<String, NpyArray> arrays = new LinkedHashMap<>();

    /** One array: dtype descriptor, shape, and its values written as little-endian bytes in C order. */
    private record NpyArray(String descr, long[] shape, int elementSize, long count, ValueWriter values) {}

    @FunctionalInterface
    private interface ValueWriter {
        /** Puts values [from, from + n) into {@code buf}. */
        void put(ByteBuffer buf, int from, int n);
    }

    public NpzWriter addFloats(String name, long[] shape, float[] values) {
        return add(name, "<f4", shape, 4, values.length, (b, from, n) -> b.asFloatBuffer().put(values, from, n));
    }

    public NpzWriter addLongs(String name, long[] shape, long[] values) {
        return add(name, "<i8", shape, 8, values.length, (b, from, n) -> b.asLongBuffer().put(values, from, n));
    }

    /** Unsigned bytes (0..255 stored in Java's signed bytes), e.g. images [N, H, W, 3]. */
    public NpzWriter addUnsignedBytes(String name, long[] shape, byte[] values) {
        return add(name, "|u1", shape, 1, values.length, (b, from, n) -> b.put(values, from, n).position(0));
    }

    private NpzWriter add(String name, String descr, long[] shape, int size, int length, ValueWriter values) {
        if (name.isEmpty() || name.contains("/")) {
            throw new CheckpointException("npz array name '" + name + "' must be non-empty and without '/'");
        }
        long count = StoredTensor.elementCountOf(shape);
        if (count != length) {
            throw new CheckpointException("npz array '" + name + "': shape " + shapeText(shape) + " holds " + count
                    + " values, " + length + " given");
        }
        if (arrays.putIfAbsent(name, new NpyArray(descr, shape.clone(), size, count, values)) != null) {
            throw new CheckpointException("npz array '" + name + "' was added twice");
        }
        return this;
    }

    /** The .npy header (magic through the final '\n') for an array of dtype {@code descr} and {@code shape}. */
    static byte[] npyHeader(String descr, long[] shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText(shape) + ", }";
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        int headerLen = dict.length() + pad + 1;
        ByteBuffer b = ByteBuffer.allocate(MAGIC.length + 2 + headerLen).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) headerLen).put(dict.getBytes(StandardCharsets.US_ASCII));
        b.put(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII)).put((byte) '\n');
        return b.array();
    }

    /** Python's repr of a shape tuple: (), (3,), (2, 4). */
    static String shapeText(long[] shape) {
        StringBuilder s = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        return s.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /** Writes the archive to {@code path} (all or nothing); throws CheckpointException when it cannot. */
    public void write(Path path) {
        Path dir = path.toAbsolutePath().getParent();
        Path tmp = null;
        boolean moved = false;
        try {
            tmp = Files.createTempFile(dir, "." + path.getFileName() + ".", ".tmp");
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), CHUNK)) {
                writeTo(out);
            }
            try {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING);
            }
            moved = true;
        } catch (IOException e) {
            throw new CheckpointException("cannot write " + path + ": " + e, e);
        } finally {
            if (tmp != null && !moved) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // the write error is the one to report
                }
            }
        }
    }

    /** The archive to a stream (left open). */
    public void writeTo(OutputStream out) throws IOException {
        ZipOutputStream zip = new ZipOutputStream(out);
        zip.setMethod(ZipOutputStream.STORED);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            NpyArray a = e.getValue();
            byte[] header = npyHeader(a.descr(), a.shape());
            CRC32 crc = new CRC32();
            crc.update(header);
            forEachChunk(a, crc::update);
            ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
            entry.setMethod(ZipEntry.STORED);
            long size = header.length + a.count() * a.elementSize();
            entry.setSize(size);
            entry.setCompressedSize(size);
            entry.setCrc(crc.getValue());
            entry.setTimeLocal(LocalDateTime.of(1980, 1, 1, 0, 0)); // fixed, so equal arrays give equal files
            zip.putNextEntry(entry);
            zip.write(header);
            IOException[] failure = new IOException[1];
            forEachChunk(a, buf -> {
                if (failure[0] == null) {
                    try {
                        zip.write(buf.array(), 0, buf.limit());
                    } catch (IOException ex) {
                        failure[0] = ex;
                    }
                }
            });
            if (failure[0] != null) {
                throw failure[0];
            }
            zip.closeEntry();
        }
        zip.finish();
        zip.flush();
    }

    private static void forEachChunk(NpyArray a, java.util.function.Consumer<ByteBuffer> sink) {
        int perChunk = CHUNK / a.elementSize();
        ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        for (long from = 0; from < a.count(); from += perChunk) {
            int n = (int) Math.min(perChunk, a.count() - from);
            buf.clear();
            a.values().put(buf, (int) from, n);
            buf.position(0).limit(n * a.elementSize());
            sink.accept(buf.duplicate());
        }
    }
}
