/**
 * Checkpoint I/O in pure Java: safetensors reading and (atomic) writing, PyTorch zip checkpoints read through
 * a restricted unpickler that never runs code, and a small JSON parser for headers and config files.
 *
 * <p>Entry point: {@link io.dyndit.io.TensorFiles#open(java.nio.file.Path)}, which picks the reader by content and
 * returns a {@link io.dyndit.io.TensorFile} of {@link io.dyndit.io.StoredTensor}s. Every error is a
 * {@link io.dyndit.core.DynditException}: {@link io.dyndit.io.CheckpointFormatException} for malformed files,
 * {@link io.dyndit.io.UnsafePickleException} for pickles that reference anything beyond tensor rebuilding,
 * {@link io.dyndit.io.TensorNotFoundException} for unknown names, {@link io.dyndit.io.CheckpointChangedException}
 * when a file is truncated or replaced after it was opened. Tensor bytes are read on demand with ordinary reads,
 * never handed out as a memory mapping, so no caller (native code included) can fault on a vanished page.
 */
package io.dyndit.io;
