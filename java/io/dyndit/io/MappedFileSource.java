package io.dyndit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;

/**
 * A memory-mapped file. A ByteBuffer addresses at most 2 GiB - 1, so files up to that size are mapped once; larger
 * files are mapped in windows of {@code window} bytes that start every {@code window / 2} bytes. Any slice no longer
 * than half a window then lies inside one window; longer slices get a mapping of their own. Slices stay valid after
 * close(), because a mapping lives until its buffer is garbage-collected.
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

    private MappedFileSource(Path path, FileChannel channel, long size, long window, MappedByteBuffer whole) {
        this.name = path.toString();
        this.path = path;
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
