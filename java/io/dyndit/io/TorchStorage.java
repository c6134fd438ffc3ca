package io.dyndit.io;

import io.dyndit.core.DType;
import java.util.zip.CRC32;
import java.util.zip.Checksum;

/**
 * A PyTorch storage: the flat element buffer ("<root>/data/<key>" in the zip) that tensors view. It is kept as a
 * byte range of the file rather than one buffer, so storages past 2 GiB work as long as each tensor view fits one.
 *
 * <p>The entry's CRC-32 (torch.load checks it too) is verified lazily, on the first read of a tensor: a tensor that
 * covers the whole storage feeds the checksum while its bytes are copied out anyway, so it costs no extra pass over
 * the file; a partial view streams the storage once. Opening stays as cheap as mapping.
 */
final class TorchStorage {
    private final String key;
    private final DType dtype;
    private final long elementCount;
    private final ByteSource file;
    private final long fileOffset;
    private final String entryName;
    private final long entrySize;
    private final int crc;
    private volatile boolean verified;

    TorchStorage(String key, DType dtype, long elementCount, ByteSource file, long fileOffset, String entryName,
            long entrySize, int crc) {
        this.key = key;
        this.dtype = dtype;
        this.elementCount = elementCount;
        this.file = file;
        this.fileOffset = fileOffset;
        this.entryName = entryName;
        this.entrySize = entrySize;
        this.crc = crc;
    }

    String key() {
        return key;
    }

    DType dtype() {
        return dtype;
    }

    long elementCount() {
        return elementCount;
    }

    ByteSource file() {
        return file;
    }

    /** Where element {@code first} lies in the file. */
    long byteOffset(long first) {
        return fileOffset + first * dtype.size();
    }

    /** The CRC check for a tensor viewing {@code count} elements from {@code first}. */
    StoredTensor.Integrity integrityFor(long first, long count) {
        boolean whole = first == 0 && count * dtype.size() == entrySize;
        return new StoredTensor.Integrity() {
            @Override
            public Checksum begin(String tensor) {
                if (verified) {
                    return null;
                }
                if (whole) {
                    return new CRC32();
                }
                verify(tensor);
                return null;
            }

            @Override
            public void end(Checksum fed, String tensor) {
                check(fed.getValue(), tensor);
            }
        };
    }

    /** Streams the whole entry through CRC-32 once; later calls return at once. */
    void verify(String tensor) {
        if (verified) {
            return;
        }
        CRC32 checksum = new CRC32();
        byte[] buffer = new byte[(int) Math.min(16 * SafeCopy.CHUNK, entrySize)];
        for (long done = 0; done < entrySize; done += buffer.length) {
            file.read(fileOffset + done, buffer, 0, (int) Math.min(buffer.length, entrySize - done), checksum,
                    "storage '" + key + "' of tensor '" + tensor + "'");
        }
        check(checksum.getValue(), tensor);
    }

    private void check(long computed, String tensor) {
        if ((int) computed != crc) {
            throw new CheckpointFormatException(String.format("%s: tensor '%s': storage entry '%s' fails its CRC-32 "
                    + "check (the zip records %08x, the bytes give %08x); the file is corrupt", file.name(), tensor,
                    entryName, crc, (int) computed));
        }
        verified = true;
    }
}
