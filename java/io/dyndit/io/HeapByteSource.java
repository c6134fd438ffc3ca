package io.dyndit.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.Checksum;

/** A ByteSource over bytes already in memory (tests, embedded resources). */
final class HeapByteSource implements ByteSource {
    private final String name;
    private final ByteBuffer bytes;

    HeapByteSource(String name, ByteBuffer bytes) {
        this.name = name;
        this.bytes = bytes.slice().asReadOnlyBuffer();
    }

    HeapByteSource(String name, byte[] bytes) {
        this(name, ByteBuffer.wrap(bytes));
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return bytes.capacity();
    }

    @Override
    public ByteBuffer slice(long offset, long length) {
        ByteSource.checkRange(this, offset, length);
        return bytes.slice((int) offset, (int) length).order(ByteOrder.LITTLE_ENDIAN);
    }

    @Override
    public void read(long offset, byte[] to, int at, int length, Checksum checksum, String what) {
        ByteSource.checkRange(this, offset, length);
        for (int done = 0; done < length; done += SafeCopy.CHUNK) {
            int n = Math.min(SafeCopy.CHUNK, length - done);
            bytes.get((int) offset + done, to, at + done, n);
            if (checksum != null) {
                checksum.update(to, at + done, n);
            }
        }
    }

    @Override
    public void close() {
    }
}
