package io.dyndit.io;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What torch._utils._rebuild_tensor_v2 describes: a strided view (offset, size, stride, all in elements) of a
 * storage. Construction checks that every element the view can reach lies inside the storage.
 */
final class TorchTensorView {
    private final TorchStorage storage;
    private final long offset;
    private final long[] size;
    private final long[] stride;
    private final long elementCount;

    private TorchTensorView(TorchStorage storage, long offset, long[] size, long[] stride, long elementCount) {
        this.storage = storage;
        this.offset = offset;
        this.size = size;
        this.stride = stride;
        this.elementCount = elementCount;
    }

    /** Validates the view against its storage; {@code where} prefixes error messages. */
    static TorchTensorView of(TorchStorage storage, long offset, long[] size, long[] stride, String where) {
        if (size.length != stride.length) {
            throw new CheckpointFormatException(where + ": tensor size " + Shapes.describe(size) + " and stride "
                    + Shapes.describe(stride) + " have different ranks");
        }
        if (offset < 0) {
            throw new CheckpointFormatException(where + ": negative storage offset " + offset);
        }
        long count = StoredTensor.elementCountOf(size);
        if (count < 0) {
            throw new CheckpointFormatException(where + ": invalid tensor size " + Shapes.describe(size));
        }
        if (count > 0) {
            long last = offset;
            try {
                for (int d = 0; d < size.length; d++) {
                    if (stride[d] < 0) {
                        throw new CheckpointFormatException(where + ": negative stride in " + Shapes.describe(stride));
                    }
                    last = Math.addExact(last, Math.multiplyExact(size[d] - 1, stride[d]));
                }
            } catch (ArithmeticException e) {
                last = Long.MAX_VALUE;
            }
            if (last >= storage.elementCount()) {
                throw new CheckpointFormatException(where + ": tensor view (offset " + offset + ", size "
                        + Shapes.describe(size) + ", stride " + Shapes.describe(stride) + ") reaches past the "
                        + storage.elementCount() + " elements of storage '" + storage.key() + "'");
            }
        }
        return new TorchTensorView(storage, offset, size.clone(), stride.clone(), count);
    }

    DType dtype() {
        return storage.dtype();
    }

    boolean isContiguous() {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    /**
     * The view as a named tensor: read from the file on demand when contiguous, otherwise a row-major copy made now. Copies are refused
     * beyond {@code maxCopyBytes}, since a zero stride can make a tiny storage describe an enormous tensor.
     */
    StoredTensor toStoredTensor(String name, long maxCopyBytes, String where) {
        int elementSize = storage.dtype().size();
        if (elementCount == 0) {
            return StoredTensor.of(name, dtype(), size, ByteBuffer.allocate(0));
        }
        if (isContiguous()) {
            if (elementCount > Integer.MAX_VALUE / elementSize) {
                throw new CheckpointFormatException(where + ": tensor '" + name + "' has " + elementCount + " x "
                        + dtype() + " elements, more than the 2 GiB - 1 bytes one StoredTensor can address");
            }
            return StoredTensor.inFile(name, dtype(), size, storage.file(), storage.byteOffset(offset),
                    elementCount * elementSize, storage.integrityFor(offset, elementCount));
        }
        if (elementCount > maxCopyBytes / elementSize || elementCount * elementSize > Integer.MAX_VALUE - 8) {
            throw new CheckpointFormatException(where + ": tensor '" + name + "' is a non-contiguous view of "
                    + elementCount + " elements; copying it would take more than the " + maxCopyBytes
                    + " bytes allowed for this file");
        }
        storage.verify(name);
        return StoredTensor.of(name, dtype(), size, gather(elementSize, name, where));
    }

    /**
     * Copies the strided elements into row-major order, walking the index space like an odometer. The span they lie
     * in is read into the heap first (a read, not the mapping, so a file truncated meanwhile gives a typed error).
     */
    private ByteBuffer gather(int elementSize, String name, String where) {
        long span = 1;
        for (int d = 0; d < size.length; d++) {
            span += (size[d] - 1) * stride[d]; // no overflow: of() bounded offset + span by the storage size
        }
        if (span > (Integer.MAX_VALUE - 8) / elementSize) {
            throw new CheckpointFormatException(where + ": tensor '" + name + "' is a non-contiguous view spread over "
                    + span + " elements of its storage, more than one gather buffer can hold");
        }
        byte[] from = new byte[(int) (span * elementSize)];
        storage.file().read(storage.byteOffset(offset), from, 0, from.length, null, "tensor '" + name + "'");
        byte[] out = new byte[(int) (elementCount * elementSize)];
        long[] index = new long[size.length];
        long position = 0; // relative to offset, the start of the span
        for (int written = 0; written < out.length; written += elementSize) {
            System.arraycopy(from, (int) (position * elementSize), out, written, elementSize);
            for (int d = size.length - 1; d >= 0; d--) {
                if (++index[d] < size[d]) {
                    position += stride[d];
                    break;
                }
                position -= (size[d] - 1) * stride[d];
                index[d] = 0;
            }
        }
        return ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
    }
}
