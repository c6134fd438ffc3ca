package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.IntStream;

/**
 * Row copies between device tensors through cached device index vectors (the gather kernel), and cached device
 * output buffers: what the device sampling loop needs to assemble a step's inputs and outputs without the host.
 */
final class DeviceRows implements AutoCloseable {
    /** Which source rows fill the destination, for a source of n rows. */
    enum RowMap {
        ALL, // 0..n-1
        HALF_TWICE, // the first half, twice ([x_first_half; x_first_half], as forward_with_cfg)
        FIRST_HALF, // the first half
        TWICE // all rows, twice
    }

    private final Device device;
    private final Scope scope = Scope.open();
    private final Map<String, Tensor> indices = new HashMap<>();
    private final Map<String, Tensor> buffers = new HashMap<>();

    DeviceRows(Device device) {
        this.device = device;
    }

    /** dst rows = src rows [srcRows, width] picked by the map. */
    void copy(Tensor src, int srcRows, int width, RowMap map, Tensor dst) {
        Tensor index = indices.computeIfAbsent(map + ":" + srcRows, k -> {
            int[] idx = switch (map) {
                case HALF_TWICE -> IntStream.range(0, srcRows).map(i -> i % (srcRows / 2)).toArray();
                case FIRST_HALF -> IntStream.range(0, srcRows / 2).toArray();
                case TWICE -> IntStream.range(0, 2 * srcRows).map(i -> i % srcRows).toArray();
                case ALL -> IntStream.range(0, srcRows).toArray();
            };
            return scope.ofInts(device, idx, idx.length);
        });
        int rows = (int) index.shape()[0];
        try (Tensor s = src.reshape(srcRows, width); Tensor d = dst.reshape(rows, width)) {
            Ops.gatherRows(s, index, d);
        }
    }

    /** A device f32 buffer of this shape, allocated on first use and kept. */
    Tensor buffer(long... shape) {
        return buffers.computeIfAbsent(java.util.Arrays.toString(shape), k -> scope.empty(device, DType.F32, shape));
    }

    @Override
    public void close() {
        scope.close();
        indices.clear();
        buffers.clear();
    }
}
