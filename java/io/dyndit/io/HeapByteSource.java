package io.dyndit.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

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
    public void close() {
    }
}
