package io.dyndit.model;

import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The few tensors other patch sizes are made from (embedder, de-embedder, flexi.q*.*), copied out of a
 * checkpoint at load so a model can derive a patch size after its file is closed.
 */
final class FlexiSource implements TensorFile {
    private final Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    private final String source;

    private FlexiSource(String source) {
        this.source = source;
    }

    static FlexiSource capture(TensorFile f) {
        FlexiSource s = new FlexiSource(f.source());
        for (String n : f.names()) {
            if (n.startsWith("flexi.") || n.startsWith("x_embedder.proj.") || n.startsWith("final_layer.linear.")) {
                StoredTensor t = f.get(n);
                s.tensors.put(n, StoredTensor.ofFloats(n, t.shape(), t.toFloatArray()));
            }
        }
        return s;
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
            throw new io.dyndit.io.TensorNotFoundException(name, source);
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
