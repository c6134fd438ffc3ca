package io.dyndit.io;

import java.nio.ByteBuffer;

/** A PyTorch storage: the flat element buffer ("<root>/data/<key>" in the zip) that tensors view. */
record TorchStorage(String key, DType dtype, long elementCount, ByteBuffer bytes) {
}
