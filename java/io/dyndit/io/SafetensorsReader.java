package io.dyndit.io;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the safetensors format: an 8-byte little-endian header length N, N bytes of JSON describing each tensor
 * (dtype, shape, data_offsets relative to the data section) plus an optional "__metadata__" string map, then the
 * raw little-endian data. Every field is validated before any tensor is handed out; tensors may overlap.
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
            return read(source);
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
        Map<String, Object> header = parseHeader(source.slice(8, headerLength), file);
        long dataStart = 8 + headerLength;
        long dataSize = fileSize - dataStart;

        Map<String, StoredTensor> tensors = new LinkedHashMap<>();
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<String, Object> entry : header.entrySet()) {
            if (entry.getKey().equals(METADATA_KEY)) {
                readMetadata(entry.getValue(), metadata, file);
                continue;
            }
            TensorEntry described = describe(entry.getKey(), entry.getValue(), dataSize, file);
            ByteBuffer bytes = source.slice(dataStart + described.begin, described.end - described.begin);
            tensors.put(entry.getKey(), StoredTensor.of(entry.getKey(), described.dtype, described.shape, bytes));
        }
        return new LoadedTensorFile(file, tensors, metadata);
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
                        + Arrays.toString(shape));
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
        long expected = count < 0 || count > Long.MAX_VALUE / dtype.byteSize() ? -1 : count * dtype.byteSize();
        if (expected != end - begin) {
            throw new CheckpointFormatException(where + ": data_offsets [" + begin + ", " + end + "] hold "
                    + (end - begin) + " bytes, but shape " + Arrays.toString(shape) + " of " + dtype + " needs "
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
            if (!(item instanceof Long)) {
                throw new CheckpointFormatException(where + ": \"" + field + "\" must hold integers, element " + i
                        + " is " + JsonParser.typeName(item) + (item == null ? "" : " " + item));
            }
            out[i] = (Long) item;
        }
        return out;
    }
}
