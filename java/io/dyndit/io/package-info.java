/**
 * Checkpoint I/O in pure Java: memory-mapped safetensors reading and writing, PyTorch zip checkpoints read through
 * a restricted unpickler that never runs code, and a small JSON parser for headers and config files.
 *
 * <p>Entry point: {@link io.dyndit.io.TensorFiles#open(java.nio.file.Path)}, which picks the reader by content and
 * returns a {@link io.dyndit.io.TensorFile} of {@link io.dyndit.io.StoredTensor}s. Every error is a
 * {@link io.dyndit.core.DynditException}: {@link io.dyndit.io.CheckpointFormatException} for malformed files,
 * {@link io.dyndit.io.UnsafePickleException} for pickles that reference anything beyond tensor rebuilding,
 * {@link io.dyndit.io.TensorNotFoundException} for unknown names.
 */
package io.dyndit.io;
