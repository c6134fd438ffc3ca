package io.dyndit.io;

import java.util.List;
import java.util.Map;

/**
 * A checkpoint opened for reading: named tensors in file order plus string metadata. Implementations validate the
 * whole file when opened, so {@link #get} only fails for unknown names.
 *
 * <p>Thread-safety: files opened by {@link TensorFiles} and the readers are read-only after open and safe to share
 * (close() only stops later lookups); a {@link MapTensorFile} is safe once no longer edited.
 */
public interface TensorFile extends AutoCloseable {
    /** Where the tensors came from (a file path or a description), used in error messages. */
    String source();

    /** Tensor names in the order the file lists them. */
    List<String> names();

    boolean contains(String name);

    /** The named tensor; throws {@link TensorNotFoundException} naming the tensor and the file when absent. */
    StoredTensor get(String name);

    /** Free-form string metadata (the safetensors "__metadata__" map; a few facts about a PyTorch checkpoint). */
    Map<String, String> metadata();

    @Override
    void close();
}
