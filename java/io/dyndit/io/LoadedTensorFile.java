package io.dyndit.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The result of opening a checkpoint: every tensor already validated and knowing where its bytes lie in the file,
 * which it reads on demand (by path), so close() only blocks further lookups and tensors handed out stay readable.
 */
final class LoadedTensorFile implements TensorFile {
    private final String source;
    private final Map<String, StoredTensor> tensors;
    private final Map<String, String> metadata;
    private volatile boolean closed;

    LoadedTensorFile(String source, Map<String, StoredTensor> tensors, Map<String, String> metadata) {
        this.source = source;
        this.tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
        this.metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public List<String> names() {
        checkOpen();
        return Collections.unmodifiableList(new ArrayList<>(tensors.keySet()));
    }

    @Override
    public boolean contains(String name) {
        checkOpen();
        return tensors.containsKey(name);
    }

    @Override
    public StoredTensor get(String name) {
        checkOpen();
        StoredTensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new TensorNotFoundException(name, source);
        }
        return tensor;
    }

    @Override
    public Map<String, String> metadata() {
        checkOpen();
        return metadata;
    }

    @Override
    public void close() {
        closed = true;
    }

    private void checkOpen() {
        if (closed) {
            throw new CheckpointException(source + " has been closed");
        }
    }

    @Override
    public String toString() {
        return "TensorFile[" + source + ", " + tensors.size() + " tensors]";
    }
}
