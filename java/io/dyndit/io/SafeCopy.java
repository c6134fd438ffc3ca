package io.dyndit.io;

import java.nio.ByteBuffer;
import java.util.zip.Checksum;

/**
 * Copies bytes out of a file mapping in Java, chunk by chunk. A mapped page that vanished because the file was
 * truncated after it was opened raises SIGBUS; inside a JDK buffer copy the JVM turns that into InternalError, which
 * is caught here and reported as {@link CheckpointChangedException}. Native code must never read a mapping directly,
 * where the same fault would kill the process.
 */
final class SafeCopy {
    /** Small enough to stay in cache between the copy and the checksum that follows it. */
    static final int CHUNK = 1 << 20;

    private SafeCopy() {
    }

    /**
     * Copies {@code from} (position to limit; not moved) into {@code to} at {@code at}, feeding each chunk to
     * {@code checksum} when one is given. {@code what} names the data for the error message.
     */
    static void copy(ByteBuffer from, byte[] to, int at, Checksum checksum, ByteSource source, String what) {
        int start = from.position();
        int length = from.remaining();
        try {
            for (int done = 0; done < length; done += CHUNK) {
                int n = Math.min(CHUNK, length - done);
                from.get(start + done, to, at + done, n);
                if (checksum != null) {
                    checksum.update(to, at + done, n);
                }
            }
        } catch (InternalError e) {
            throw changed(source, what, e);
        }
    }

    /** Feeds {@code from} (position to limit; not moved) to {@code checksum} through a small heap buffer. */
    static void checksum(ByteBuffer from, Checksum checksum, ByteSource source, String what) {
        byte[] chunk = new byte[Math.min(CHUNK, Math.max(1, from.remaining()))];
        ByteBuffer rest = from.duplicate();
        while (rest.hasRemaining()) {
            ByteBuffer piece = rest.slice(rest.position(), Math.min(chunk.length, rest.remaining()));
            copy(piece, chunk, 0, checksum, source, what);
            rest.position(rest.position() + piece.capacity());
        }
    }

    static CheckpointChangedException changed(ByteSource source, String what, Throwable cause) {
        return new CheckpointChangedException(source.name() + " changed or was truncated while reading " + what
                + " (" + source.sizeChange() + "); reopen it once it is complete", cause);
    }
}
