package io.dyndit.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the safetensors format. Output is deterministic whatever order tensors were added in: like the reference
 * implementation, tensors are laid out by element size (largest first, so every tensor stays aligned to its element
 * size) and then by name; the JSON header is padded with spaces to a multiple of 8 bytes.
 *
 * <p>Thread-safety: not thread-safe: one writer per thread.
 */
public final class SafetensorsWriter {
    private final Map<String, StoredTensor> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new LinkedHashMap<>();

    public SafetensorsWriter add(StoredTensor tensor) {
        return add(tensor.name(), tensor);
    }

    /** Adds a tensor under {@code name} (which need not equal tensor.name()). */
    public SafetensorsWriter add(String name, StoredTensor tensor) {
        if (name.equals("__metadata__")) {
            throw new CheckpointException(
                    "'__metadata__' is reserved by the safetensors format and cannot name a tensor");
        }
        if (tensors.putIfAbsent(name, tensor) != null) {
            throw new CheckpointException("tensor '" + name + "' was added twice");
        }
        return this;
    }

    public SafetensorsWriter addFloats(String name, long[] shape, float[] values) {
        return add(StoredTensor.ofFloats(name, shape, values));
    }

    public SafetensorsWriter addDoubles(String name, long[] shape, double[] values) {
        return add(StoredTensor.ofDoubles(name, shape, values));
    }

    public SafetensorsWriter addLongs(String name, long[] shape, long[] values) {
        return add(StoredTensor.ofLongs(name, shape, values));
    }

    public SafetensorsWriter putMetadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** Writes all tensors of {@code named} (keyed by name) to {@code path}. */
    public static void write(Path path, Map<String, StoredTensor> named) {
        SafetensorsWriter writer = new SafetensorsWriter();
        named.forEach(writer::add);
        writer.write(path);
    }

    /**
     * Writes to {@code path} all or nothing: the bytes go to a temporary file in the same directory, which is synced
     * and then renamed over {@code path}. A failure part-way (disk full, a tensor whose file went away) removes the
     * temporary file and leaves any existing {@code path} untouched.
     */
    public void write(Path path) {
        List<Map.Entry<String, StoredTensor>> ordered = layoutOrder();
        ByteBuffer header = header(ordered);
        AtomicOutput.write(path, tmp -> {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                writeFully(out, header);
                for (Map.Entry<String, StoredTensor> entry : ordered) {
                    writeFully(out, entry.getValue().data());
                }
                out.force(true); // on disk before the rename makes it visible
            } catch (IOException e) {
                throw new CheckpointException("cannot write " + path + ": " + AtomicOutput.plain(e), e);
            }
        });
    }

    /** The complete file contents in memory (small files and tests). */
    public byte[] toByteArray() {
        List<Map.Entry<String, StoredTensor>> ordered = layoutOrder();
        ByteBuffer header = header(ordered);
        long total = header.remaining();
        for (Map.Entry<String, StoredTensor> entry : ordered) {
            total += entry.getValue().byteSize();
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new CheckpointException("safetensors output of " + total + " bytes does not fit a byte array");
        }
        ByteBuffer out = ByteBuffer.allocate((int) total);
        out.put(header);
        for (Map.Entry<String, StoredTensor> entry : ordered) {
            out.put(entry.getValue().data());
        }
        return out.array();
    }

    private List<Map.Entry<String, StoredTensor>> layoutOrder() {
        List<Map.Entry<String, StoredTensor>> ordered = new ArrayList<>(tensors.entrySet());
        ordered.sort(Comparator
                .comparingInt((Map.Entry<String, StoredTensor> e) -> -e.getValue().dtype().size())
                .thenComparing(Map.Entry::getKey));
        return ordered;
    }

    private ByteBuffer header(List<Map.Entry<String, StoredTensor>> ordered) {
        StringBuilder json = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            json.append("\"__metadata__\":{");
            boolean first = true;
            for (Map.Entry<String, String> item : metadata.entrySet()) {
                json.append(first ? "" : ",").append(JsonWriter.quote(item.getKey())).append(':')
                        .append(JsonWriter.quote(item.getValue()));
                first = false;
            }
            json.append('}');
        }
        long offset = 0;
        for (Map.Entry<String, StoredTensor> entry : ordered) {
            StoredTensor tensor = entry.getValue();
            if (json.length() > 1) {
                json.append(',');
            }
            json.append(JsonWriter.quote(entry.getKey())).append(":{\"dtype\":\"")
                    .append(tensor.dtype().safetensorsName()).append("\",\"shape\":[");
            long[] shape = tensor.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            long end = offset + tensor.byteSize();
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');
        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (text.length + 7) / 8 * 8;
        ByteBuffer header = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(padded).put(text);
        while (header.hasRemaining()) {
            header.put((byte) ' ');
        }
        return header.flip();
    }

    private static void writeFully(FileChannel out, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            out.write(bytes);
        }
    }
}
