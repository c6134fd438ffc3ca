package io.dyndit.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A checkpoint held in memory: named tensors in insertion order. Used for generated weights, for the
 * small set of tensors a model keeps to derive other forms later, and for tests that edit checkpoints.
 *
 * <p>Thread-safety: not thread-safe while being edited (put, remove); reads from many threads are safe once it is no
 * longer edited.
 */
public class MapTensorFile implements TensorFile {
    private final Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    private final String source;

    public MapTensorFile(String source) {
        this.source = source;
    }

    /** The tensors of {@code file} whose names pass {@code keep}, copied into Java memory (the file may close). */
    public static MapTensorFile copyOf(TensorFile file, Predicate<String> keep) {
        MapTensorFile m = new MapTensorFile(file.source());
        for (String n : file.names()) {
            if (keep.test(n)) {
                StoredTensor t = file.get(n);
                m.tensors.put(n, StoredTensor.of(n, t.dtype(), t.shape(), copy(t)));
            }
        }
        return m;
    }

    public static MapTensorFile copyOf(TensorFile file) {
        return copyOf(file, n -> true);
    }

    private static java.nio.ByteBuffer copy(StoredTensor t) {
        java.nio.ByteBuffer src = t.data().duplicate();
        java.nio.ByteBuffer dst = java.nio.ByteBuffer.allocate(src.remaining());
        dst.put(src).flip();
        return dst;
    }

    /** Adds or replaces a tensor under its own name. */
    public MapTensorFile put(StoredTensor t) {
        return put(t.name(), t);
    }

    public MapTensorFile put(String name, StoredTensor t) {
        tensors.put(name, t);
        return this;
    }

    public MapTensorFile put(String name, float[] values, long... shape) {
        return put(name, StoredTensor.ofFloats(name, shape, values));
    }

    public MapTensorFile remove(String name) {
        tensors.remove(name);
        return this;
    }

    /** Moves {@code from} to {@code to}, optionally with a new shape of the same size. */
    public MapTensorFile rename(String from, String to, long... newShape) {
        StoredTensor t = tensors.remove(from);
        if (t == null) {
            throw new TensorNotFoundException(from, source);
        }
        return put(to, t.reshaped(to, newShape.length > 0 ? newShape : t.shape()));
    }

    /** The tensors by name, in order (read-only view). */
    public Map<String, StoredTensor> asMap() {
        return java.util.Collections.unmodifiableMap(tensors);
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
