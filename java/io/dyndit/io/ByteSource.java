package io.dyndit.io;

import java.nio.ByteBuffer;
import java.util.zip.Checksum;

/** Random access to the bytes of a checkpoint, either a memory-mapped file or an in-memory buffer. */
interface ByteSource extends AutoCloseable {
    /** Name used in error messages (normally the file path). */
    String name();

    long size();

    /** Says how the size differs now from when the source was opened, for "changed while reading" errors. */
    default String sizeChange() {
        return size() + " bytes when opened";
    }

    /**
     * A read-only little-endian buffer over {@code [offset, offset + length)}, positioned at 0. Throws
     * {@link CheckpointFormatException} when the range lies outside the source or exceeds 2 GiB - 1.
     */
    ByteBuffer slice(long offset, long length);

    /**
     * Copies {@code [offset, offset + length)} into {@code to} at {@code at} without going through a memory mapping,
     * feeding each chunk to {@code checksum} when one is given. A file that shrank or was replaced since it was opened
     * gives {@link CheckpointChangedException}; {@code what} names the data for messages ("tensor 'w'").
     */
    void read(long offset, byte[] to, int at, int length, Checksum checksum, String what);

    @Override
    void close();

    /** Shared range check so every source fails the same way. */
    static void checkRange(ByteSource source, long offset, long length) {
        if (offset < 0 || length < 0 || offset > source.size() - length) {
            throw new CheckpointFormatException(source.name() + ": byte range [" + offset + ", " + offset + " + "
                    + length + ") lies outside the file (" + source.size() + " bytes)");
        }
        if (length > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(source.name() + ": a single block of " + length
                    + " bytes is larger than 2 GiB - 1, which this reader cannot address as one buffer");
        }
    }
}
