package io.dyndit.io;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;

/**
 * A PyTorch storage: the flat element buffer ("<root>/data/<key>" in the zip) that tensors view. It is kept as a
 * byte range of the file rather than one buffer, so storages past 2 GiB work as long as each tensor view fits one.
 */
record TorchStorage(String key, DType dtype, long elementCount, ByteSource file, long fileOffset) {
    /** The bytes of {@code count} elements starting at element {@code first}; the caller has bounds-checked them. */
    ByteBuffer elements(long first, long count) {
        return file.slice(fileOffset + first * dtype.size(), count * dtype.size());
    }
}
