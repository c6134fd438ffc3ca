package io.dyndit.io;

import io.dyndit.core.DType;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the safetensors format: an 8-byte little-endian header length N, N bytes of JSON describing each tensor
 * (dtype, shape, data_offsets relative to the data section) plus an optional "__metadata__" string map, then the
 * raw little-endian data. Every field is validated before any tensor is handed out. Like the reference
 * implementation, the tensors' byte ranges must tile the data section exactly: sorted by offset, the first begins at
 * 0, each begins where the previous one ended and the last ends at the end of the file (no gap, overlap, aliasing or
 * trailing bytes), so every byte of the file is accounted for.
 *
 * <p>Thread-safety: static, safe from any thread; the TensorFile it returns is read-only after open and safe to share.
 */
public final class SafetensorsReader {
    /** Real headers are kilobytes; anything larger than this is treated as corruption rather than allocated. */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    private static final String METADATA_KEY = "__metadata__";

    private SafetensorsReader() {
    }

    /** Memory-maps and validates a .safetensors file. */
    public static TensorFile open(Path path) {
        try (ByteSource source = MappedFileSource.open(path)) {
            try {
                return read(source);
            } catch (InternalError e) {
                throw SafeCopy.changed(source, "its header", e);
            }
        }
    }

    /** Reads safetensors bytes already in memory; {@code name} is used in error messages. */
    public static TensorFile read(ByteBuffer bytes, String name) {
        return read(new HeapByteSource(name, bytes));
    }

    static TensorFile read(ByteSource source) {
        String file = source.name();
        long fileSize = source.size();
        if (fileSize < 8) {
            throw new CheckpointFormatException(file + ": " + fileSize
                    + " bytes is too short for a safetensors file (the header length alone takes 8 bytes)");
        }
        long headerLength = source.slice(0, 8).getLong(0);
        if (headerLength < 0 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointFormatException(file + ": header length " + Long.toUnsignedString(headerLength)
                    + " is absurd (more than " + MAX_HEADER_BYTES + " bytes); not a safetensors file or corrupt");
        }
        if (headerLength > fileSize - 8) {
            throw new CheckpointFormatException(file + ": header length " + headerLength
                    + " runs past the end of the file (" + fileSize + " bytes, so at most " + (fileSize - 8)
                    + " header bytes)");
        }
        if (headerLength < 2 || source.slice(8, 1).get(0) != '{') {
            throw new CheckpointFormatException(file + ": header does not start with '{' (header length "
                    + headerLength + "); not a safetensors file or corrupt");
        }
        byte[] headerBytes = new byte[(int) headerLength];
        source.read(8, headerBytes, 0, headerBytes.length, null, "the header");
        Map<String, Object> header = parseHeader(ByteBuffer.wrap(headerBytes), file);
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, TensorEntry> described = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : header.entrySet()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                readMetadata(entry.getValue(), metadata, file);
                continue;
            }
            described.put(entry.getKey(), describe(entry.getKey(), entry.getValue(), dataSize, file));
        }
        checkTiling(described, dataSize, file);
        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, TensorEntry> entry : described.entrySet()) {
            TensorEntry t = entry.getValue();
            tensors.put(entry.getKey(), StoredTensor.inFile(entry.getKey(), t.dtype, t.shape, source,
                    dataStart + t.begin, t.end - t.begin, null));
        }
        return new LoadedTensorFile(file, tensors, metadata);
    }

    /**
     * The byte ranges, sorted by (begin, end), must follow each other without gaps or overlap from 0 to the end of the
     * data section. Empty tensors may sit anywhere inside it; two tensors can never share a byte.
     */
    private static void checkTiling(Map<String, TensorEntry> described, long dataSize, String file) {
        List<Map.Entry<String, TensorEntry>> sorted = new ArrayList<>(described.entrySet());
        sorted.sort(Comparator.comparingLong((Map.Entry<String, TensorEntry> e) -> e.getValue().begin)
                .thenComparingLong(e -> e.getValue().end));
        long covered = 0;
        String previous = null;
        for (Map.Entry<String, TensorEntry> entry : sorted) {
            TensorEntry t = entry.getValue();
            String where = file + ": tensor '" + entry.getKey() + "' at data_offsets [" + t.begin + ", " + t.end + "]";
            if (t.begin > covered) {
                throw new CheckpointFormatException(where + " leaves a gap of " + (t.begin - covered)
                        + " unused bytes after " + (previous == null ? "the start of the data section"
                                : "tensor '" + previous + "' (which ends at " + covered + ")")
                        + "; safetensors data must be contiguous");
            }
            if (t.begin < covered && t.end > t.begin) {
                throw new CheckpointFormatException(where + (t.begin == described.get(previous).begin
                        ? " aliases" : " overlaps") + " tensor '" + previous + "' (which ends at " + covered
                        + "); tensors may not share bytes");
            }
            if (t.end > covered) {
                covered = t.end;
                previous = entry.getKey();
            }
        }
        if (covered != dataSize) {
            throw new CheckpointFormatException(file + ": the tensors cover " + covered + " bytes of the "
                    + dataSize + "-byte data section, leaving " + (dataSize - covered) + " trailing bytes after "
                    + (previous == null ? "the header" : "tensor '" + previous + "'")
                    + " (wrong header length or offsets, or a corrupt file)");
        }
    }

    private static Map<String, Object> parseHeader(ByteBuffer headerBytes, String file) {
        String json;
        try {
            json = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(headerBytes).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointFormatException(file + ": header is not valid UTF-8 text", e);
        }
        try {
            return JsonParser.parseObject(json);
        } catch (JsonParseException e) {
            throw new CheckpointFormatException(file + ": header is not valid JSON: " + e.getMessage(), e);
        }
    }

    private static void readMetadata(Object value, Map<String, String> metadata, String file) {
        if (!(value instanceof Map)) {
            throw new CheckpointFormatException(file + ": \"" + METADATA_KEY + "\" must be an object of strings, found "
                    + JsonParser.typeName(value));
        }
        for (Map.Entry<?, ?> item : ((Map<?, ?>) value).entrySet()) {
            if (!(item.getValue() instanceof String)) {
                throw new CheckpointFormatException(file + ": \"" + METADATA_KEY + "\" value for '" + item.getKey()
                        + "' must be a string, found " + JsonParser.typeName(item.getValue()));
            }
            metadata.put((String) item.getKey(), (String) item.getValue());
        }
    }

    /** The validated header entry of one tensor. */
    private record TensorEntry(DType dtype, long[] shape, long begin, long end) {
    }

    private static TensorEntry describe(String name, Object value, long dataSize, String file) {
        String where = file + ": tensor '" + name + "'";
        if (!(value instanceof Map)) {
            throw new CheckpointFormatException(where + ": header entry must be an object, found "
                    + JsonParser.typeName(value));
        }
        Map<?, ?> fields = (Map<?, ?>) value;
        Object dtypeName = fields.get("dtype");
        if (!(dtypeName instanceof String)) {
            throw new CheckpointFormatException(where + ": \"dtype\" must be a string, found "
                    + JsonParser.typeName(dtypeName));
        }
        DType dtype = DType.fromSafetensorsName((String) dtypeName);
        if (dtype == null) {
            throw new CheckpointFormatException(where + ": unknown dtype '" + dtypeName + "' (supported: "
                    + Arrays.toString(DType.values()) + ")");
        }
        long[] shape = integers(fields.get("shape"), "shape", where);
        for (long dim : shape) {
            if (dim < 0) {
                throw new CheckpointFormatException(where + ": negative dimension " + dim + " in shape "
                        + Shapes.describe(shape));
            }
        }
        long[] offsets = integers(fields.get("data_offsets"), "data_offsets", where);
        if (offsets.length != 2) {
            throw new CheckpointFormatException(where + ": \"data_offsets\" must hold exactly [begin, end], found "
                    + offsets.length + " numbers");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin < 0 || end < begin) {
            throw new CheckpointFormatException(where + ": data_offsets [" + begin + ", " + end
                    + "] are invalid (need 0 <= begin <= end)");
        }
        if (end > dataSize) {
            throw new CheckpointFormatException(where + ": data_offsets [" + begin + ", " + end
                    + "] run past the end of the data section (" + dataSize + " bytes)");
        }
        long count = StoredTensor.elementCountOf(shape);
        long expected = count < 0 || count > Long.MAX_VALUE / dtype.size() ? -1 : count * dtype.size();
        if (expected != end - begin) {
            throw new CheckpointFormatException(where + ": data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + " bytes, but shape " + Shapes.describe(shape) + " of " + dtype + " needs "
                    + (expected < 0 ? "more than 2^63" : Long.toString(expected)));
        }
        if (end - begin > Integer.MAX_VALUE) {
            throw new CheckpointFormatException(where + ": " + (end - begin)
                    + " bytes is more than the 2 GiB - 1 one StoredTensor can address");
        }
        return new TensorEntry(dtype, shape, begin, end);
    }

    private static long[] integers(Object value, String field, String where) {
        if (!(value instanceof List)) {
            throw new CheckpointFormatException(where + ": \"" + field + "\" must be an array of integers, found "
                    + JsonParser.typeName(value));
        }
        List<?> items = (List<?>) value;
        long[] out = new long[items.size()];
        for (int i = 0; i < out.length; i++) {
            Object item = items.get(i);
            // Integers beyond 64 bits reach here as doubles.
            if (item instanceof Double d && d == Math.rint(d) && Math.abs(d) >= 0x1p63) {
                throw new CheckpointFormatException(where + ": \"" + field + "\" element " + i + " (" + d
                        + ") is out of range: it must lie in [" + Long.MIN_VALUE + ", " + Long.MAX_VALUE + "]");
            }
            if (!(item instanceof Long)) {
                throw new CheckpointFormatException(where + ": \"" + field + "\" must hold integers, element " + i
                        + " is " + JsonParser.typeName(item) + (item == null ? "" : " " + item));
            }
            out[i] = (Long) item;
        }
        return out;
    }
}
