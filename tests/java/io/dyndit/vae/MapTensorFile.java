package io.dyndit.vae;

import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** An in-memory checkpoint: the golden weights renamed, reshaped or cut down for loader tests. */
final class MapTensorFile implements TensorFile {
    final Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    private final String source;

    MapTensorFile(String source) {
        this.source = source;
    }

    /** A copy of every tensor of {@code file} under the same names. */
    static MapTensorFile copyOf(TensorFile file) {
        MapTensorFile m = new MapTensorFile(file.source() + " (in-memory copy)");
        for (String n : file.names()) {
            m.tensors.put(n, file.get(n));
        }
        return m;
    }

    /** Moves tensor {@code from} to {@code to}, optionally with a new shape of the same size. */
    MapTensorFile rename(String from, String to, long... newShape) {
        StoredTensor t = tensors.remove(from);
        if (t == null) {
            throw new IllegalArgumentException("no " + from);
        }
        tensors.put(to, StoredTensor.of(to, t.dtype(), newShape.length > 0 ? newShape : t.shape(), t.data()));
        return this;
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public List<String> names() {
        return new ArrayList<>(tensors.keySet());
    }

    @Override
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    @Override
    public StoredTensor get(String name) {
        StoredTensor t = tensors.get(name);
        if (t == null) {
            throw new TensorNotFoundException(name, source);
        }
        return t;
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {}
}
