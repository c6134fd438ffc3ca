package io.dyndit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.Checksum;

/**
 * A memory-mapped file. A ByteBuffer addresses at most 2 GiB - 1, so files up to that size are mapped once; larger
 * files are mapped in windows of {@code window} bytes that start every {@code window / 2} bytes. Any slice no longer
 * than half a window then lies inside one window; longer slices get a mapping of their own. Slices stay valid after
 * close(), because a mapping lives until its buffer is garbage-collected.
 *
 * <p>The mapping serves only the small structural reads made while opening (the safetensors length, the zip
 * directory and local headers). Bulk bytes (the safetensors header, data.pkl, tensors) are copied with positional
 * reads ({@link #read}) on a freshly opened channel: a mapped page of a file that
 * was truncated after it was opened raises SIGBUS, which the JVM reports as an InternalError only at some later,
 * unpredictable point (it was seen escaping after the copy returned), whereas a read simply comes up short.
 */
final class MappedFileSource implements ByteSource {
    static final long DEFAULT_WINDOW = 1L << 30;

    private final String name;
    private final Path path;
    private final FileChannel channel;
    private final long size;
    private final long window;
    private final MappedByteBuffer whole;
    private final Map<Long, MappedByteBuffer> windows = new HashMap<>();
    /** Identity of the file when opened (inode and device on POSIX), to notice a replaced file; may be null. */
    private final Object fileKey;

    private MappedFileSource(Path path, FileChannel channel, long size, long window, MappedByteBuffer whole) {
        this.name = path.toString();
        this.path = path;
        this.fileKey = fileKey(path);
        this.channel = channel;
        this.size = size;
        this.window = window;
        this.whole = whole;
    }

    static MappedFileSource open(Path path) {
        return open(path, Integer.MAX_VALUE, DEFAULT_WINDOW);
    }

    /** Package-private knobs so tests can exercise the windowed path on small files. */
    static MappedFileSource open(Path path, long wholeMapLimit, long window) {
        FileChannel channel = null;
        try {
            channel = FileChannel.open(path, StandardOpenOption.READ);
            long size = channel.size();
            MappedByteBuffer whole = size <= wholeMapLimit ? channel.map(FileChannel.MapMode.READ_ONLY, 0, size) : null;
            return new MappedFileSource(path, channel, size, window, whole);
        } catch (IOException | RuntimeException e) {
            closeQuietly(channel);
            throw new CheckpointException("cannot read " + path + ": " + e, e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void read(long offset, byte[] to, int at, int length, Checksum checksum, String what) {
        ByteSource.checkRange(this, offset, length);
        try (FileChannel in = FileChannel.open(path, StandardOpenOption.READ)) {
            Object key = fileKey(path);
            if (in.size() != size || (fileKey != null && !fileKey.equals(key))) {
                throw SafeCopy.changed(this, what, null);
            }
            ByteBuffer into = ByteBuffer.wrap(to);
            for (int done = 0; done < length; ) {
                int end = at + Math.min(length, done + SafeCopy.CHUNK);
                into.limit(end).position(at + done);
                int chunkStart = at + done;
                while (into.hasRemaining()) {
                    int n = in.read(into, offset + (into.position() - at));
                    if (n < 0) {
                        throw SafeCopy.changed(this, what, null);
                    }
                }
                if (checksum != null) {
                    checksum.update(to, chunkStart, end - chunkStart);
                }
                done = end - at;
            }
        } catch (NoSuchFileException e) {
            throw SafeCopy.changed(this, what, e);
        } catch (IOException e) {
            throw new CheckpointException("cannot read " + what + " from " + name + ": " + e, e);
        }
    }

    private static Object fileKey(Path path) {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String sizeChange() {
        String now;
        try {
            now = Files.exists(path) ? Files.size(path) + " bytes now" : "it no longer exists";
        } catch (IOException e) {
            now = "its size cannot be read now: " + e.getMessage();
        }
        return size + " bytes when opened, " + now;
    }

    @Override
    public ByteBuffer slice(long offset, long length) {
        ByteSource.checkRange(this, offset, length);
        if (whole != null) {
            return whole.slice((int) offset, (int) length).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        long step = window / 2;
        try {
            if (length <= step) {
                long index = offset / step;
                long start = index * step;
                MappedByteBuffer mapped = windows.get(index);
                if (mapped == null) {
                    mapped = channel.map(FileChannel.MapMode.READ_ONLY, start, Math.min(window, size - start));
                    windows.put(index, mapped);
                }
                return mapped.slice((int) (offset - start), (int) length).asReadOnlyBuffer()
                        .order(ByteOrder.LITTLE_ENDIAN);
            }
            return channel.map(FileChannel.MapMode.READ_ONLY, offset, length).asReadOnlyBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
        } catch (IOException e) {
            throw new CheckpointException("cannot map bytes [" + offset + ", " + (offset + length) + ") of " + name
                    + ": " + e, e);
        }
    }

    @Override
    public void close() {
        closeQuietly(channel);
    }

    private static void closeQuietly(FileChannel channel) {
        if (channel != null) {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Nothing useful to do: the mapping, not the channel, holds the data.
            }
        }
    }
}
