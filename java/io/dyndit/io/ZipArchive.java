package io.dyndit.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A minimal zip reader over a ByteSource, enough for PyTorch checkpoints: the central directory (with ZIP64 records
 * and extra fields for archives and entries past 4 GiB), STORED entries located in place so callers can slice the
 * mapping without copying, and small DEFLATED entries inflated into memory. Every offset, size and count read from
 * the archive is checked against the archive size before it is used.
 */
final class ZipArchive {
    static final int STORED = 0;
    static final int DEFLATED = 8;

    private static final int LOCAL_HEADER = 0x04034b50;
    private static final int CENTRAL_HEADER = 0x02014b50;
    private static final int END_OF_DIRECTORY = 0x06054b50;
    private static final int ZIP64_END_OF_DIRECTORY = 0x06064b50;
    private static final int ZIP64_LOCATOR = 0x07064b50;
    private static final int ZIP64_EXTRA_ID = 0x0001;
    private static final int DATA_DESCRIPTOR = 0x08074b50;
    private static final int END_RECORD_SIZE = 22;
    private static final int CENTRAL_RECORD_SIZE = 46;
    private static final int LOCAL_RECORD_SIZE = 30;
    private static final int MAX_COMMENT = 0xFFFF;
    /** Deflate cannot expand data by more than about 1032:1; a larger declared size is a lie. */
    private static final long MAX_DEFLATE_RATIO = 1032;

    /** One central-directory record. Sizes and offsets are already widened from their ZIP64 fields. */
    record Entry(String name, int flags, int method, int crc, long compressedSize, long size, long localHeaderOffset) {
        boolean encrypted() {
            return (flags & 1) != 0;
        }
    }

    private final ByteSource source;
    private final Map<String, Entry> entries;

    private ZipArchive(ByteSource source, Map<String, Entry> entries) {
        this.source = source;
        this.entries = entries;
    }

    static ZipArchive read(ByteSource source) {
        long endRecord = findEndRecord(source);
        ByteBuffer end = source.slice(endRecord, END_RECORD_SIZE);
        long entryCount = end.getShort(10) & 0xFFFF;
        long directorySize = end.getInt(12) & 0xFFFFFFFFL;
        long directoryOffset = end.getInt(16) & 0xFFFFFFFFL;
        if ((end.getShort(4) & 0xFFFF) != 0 || (end.getShort(6) & 0xFFFF) != 0) {
            throw format(source, "multi-volume zip archives are not supported");
        }
        long locator = endRecord - 20;
        if (locator >= 0 && source.slice(locator, 4).getInt(0) == ZIP64_LOCATOR) {
            long zip64End = source.slice(locator + 8, 8).getLong(0);
            if (zip64End < 0 || zip64End > locator - 56) {
                throw format(source, "ZIP64 end-of-directory offset " + zip64End + " is outside the archive");
            }
            ByteBuffer record = source.slice(zip64End, 56);
            if (record.getInt(0) != ZIP64_END_OF_DIRECTORY) {
                throw format(source, "no ZIP64 end-of-directory record at offset " + zip64End);
            }
            entryCount = record.getLong(32);
            directorySize = record.getLong(40);
            directoryOffset = record.getLong(48);
        }
        if (directoryOffset < 0 || directorySize < 0 || directoryOffset > endRecord - directorySize) {
            throw format(source, "central directory [" + directoryOffset + ", +" + directorySize
                    + ") does not lie before the end record at " + endRecord);
        }
        if (entryCount < 0 || entryCount > directorySize / CENTRAL_RECORD_SIZE) {
            throw format(source, "central directory claims " + entryCount + " entries, more than its "
                    + directorySize + " bytes can hold");
        }
        ByteBuffer directory = source.slice(directoryOffset, directorySize);
        Map<String, Entry> entries = new LinkedHashMap<>();
        Map<Long, String> localHeaders = new HashMap<>();
        int at = 0;
        for (long i = 0; i < entryCount; i++) {
            Entry entry = readCentralRecord(source, directory, at, i);
            at += CENTRAL_RECORD_SIZE + (directory.getShort(at + 28) & 0xFFFF)
                    + (directory.getShort(at + 30) & 0xFFFF) + (directory.getShort(at + 32) & 0xFFFF);
            if (entries.putIfAbsent(entry.name(), entry) != null) {
                throw format(source, "duplicate entry '" + entry.name() + "'");
            }
            // Two records sharing one local header would let one entry's bytes pass for another's.
            String other = localHeaders.putIfAbsent(entry.localHeaderOffset(), entry.name());
            if (other != null) {
                throw format(source, "entry '" + entry.name() + "' points at the local header of entry '" + other
                        + "' (offset " + entry.localHeaderOffset() + ")");
            }
        }
        return new ZipArchive(source, entries);
    }

    /** Scans backwards for the end-of-central-directory record (it may be followed by a comment). */
    private static long findEndRecord(ByteSource source) {
        long size = source.size();
        if (size < END_RECORD_SIZE) {
            throw format(source, "too short (" + size + " bytes) to be a zip archive");
        }
        long tailStart = Math.max(0, size - END_RECORD_SIZE - MAX_COMMENT);
        ByteBuffer tail = source.slice(tailStart, size - tailStart);
        for (int pos = tail.capacity() - END_RECORD_SIZE; pos >= 0; pos--) {
            if (tail.getInt(pos) == END_OF_DIRECTORY
                    && pos + END_RECORD_SIZE + (tail.getShort(pos + 20) & 0xFFFF) <= tail.capacity()) {
                return tailStart + pos;
            }
        }
        throw format(source, "no zip end-of-central-directory record found");
    }

    private static Entry readCentralRecord(ByteSource source, ByteBuffer directory, int at, long index) {
        if (at > directory.capacity() - CENTRAL_RECORD_SIZE || directory.getInt(at) != CENTRAL_HEADER) {
            throw format(source, "central directory record " + index + " is missing or corrupt (at directory offset "
                    + at + ")");
        }
        int flags = directory.getShort(at + 8) & 0xFFFF;
        int method = directory.getShort(at + 10) & 0xFFFF;
        int crc = directory.getInt(at + 16);
        long compressedSize = directory.getInt(at + 20) & 0xFFFFFFFFL;
        long size = directory.getInt(at + 24) & 0xFFFFFFFFL;
        int nameLength = directory.getShort(at + 28) & 0xFFFF;
        int extraLength = directory.getShort(at + 30) & 0xFFFF;
        int commentLength = directory.getShort(at + 32) & 0xFFFF;
        long localHeaderOffset = directory.getInt(at + 42) & 0xFFFFFFFFL;
        int nameStart = at + CENTRAL_RECORD_SIZE;
        if ((long) nameStart + nameLength + extraLength + commentLength > directory.capacity()) {
            throw format(source, "central directory record " + index + " runs past the directory");
        }
        String name = decodeName(directory.slice(nameStart, nameLength));

        // ZIP64 extended information holds, in this order, only the fields whose 32-bit value is 0xFFFFFFFF.
        ByteBuffer extra = directory.slice(nameStart + nameLength, extraLength).order(directory.order());
        int pos = 0;
        while (pos + 4 <= extra.capacity()) {
            int id = extra.getShort(pos) & 0xFFFF;
            int length = extra.getShort(pos + 2) & 0xFFFF;
            if (pos + 4 + length > extra.capacity()) {
                throw format(source, "entry '" + name + "': extra field runs past its record");
            }
            if (id == ZIP64_EXTRA_ID) {
                ByteBuffer zip64 = extra.slice(pos + 4, length).order(directory.order());
                int field = 0;
                if (size == 0xFFFFFFFFL) {
                    size = zip64Field(source, zip64, field++, name);
                }
                if (compressedSize == 0xFFFFFFFFL) {
                    compressedSize = zip64Field(source, zip64, field++, name);
                }
                if (localHeaderOffset == 0xFFFFFFFFL) {
                    localHeaderOffset = zip64Field(source, zip64, field, name);
                }
            }
            pos += 4 + length;
        }
        return new Entry(name, flags, method, crc, compressedSize, size, localHeaderOffset);
    }

    private static long zip64Field(ByteSource source, ByteBuffer zip64, int field, String name) {
        if ((field + 1) * 8 > zip64.capacity()) {
            throw format(source, "entry '" + name + "': ZIP64 extra field is too short");
        }
        long value = zip64.getLong(field * 8);
        if (value < 0) {
            throw format(source, "entry '" + name + "': ZIP64 size or offset " + Long.toUnsignedString(value)
                    + " is out of range");
        }
        return value;
    }

    private static String decodeName(ByteBuffer bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(bytes).toString();
        } catch (CharacterCodingException e) {
            // Not UTF-8: legacy zips use CP437. Latin-1 keeps each byte distinct, which is all lookups need.
            bytes.rewind();
            return StandardCharsets.ISO_8859_1.decode(bytes).toString();
        }
    }

    String name() {
        return source.name();
    }

    List<Entry> entries() {
        return Collections.unmodifiableList(new ArrayList<>(entries.values()));
    }

    /** The entry with this exact name, or null. */
    Entry find(String name) {
        return entries.get(name);
    }

    /**
     * Where a STORED entry's bytes start in the archive; the entry occupies {@code entry.size()} bytes from there,
     * already checked to lie inside the archive. Large entries are sliced from the source piecewise by the caller.
     */
    long storedDataOffset(Entry entry) {
        if (entry.method() != STORED) {
            throw format(source, "entry '" + entry.name() + "' is compressed (method " + entry.method()
                    + "); it must be stored uncompressed to be mapped");
        }
        return dataOffset(entry);
    }

    ByteSource source() {
        return source;
    }

    /** An entry's bytes copied into memory, inflating if needed and verifying the CRC-32. */
    byte[] readFully(Entry entry, int maxBytes) {
        return readFully(entry, maxBytes, MAX_DEFLATE_RATIO);
    }

    /**
     * As {@link #readFully(Entry, int)}, refusing before anything is allocated a compressed entry whose declared
     * size exceeds {@code maxRatio} times its compressed size (a decompression bomb).
     */
    byte[] readFully(Entry entry, int maxBytes, long maxRatio) {
        if (entry.size() > maxBytes) {
            throw format(source, "entry '" + entry.name() + "' declares " + entry.size()
                    + " bytes, more than the limit of " + maxBytes);
        }
        if (entry.method() != STORED && entry.size() > entry.compressedSize() * maxRatio + 64) {
            throw format(source, "entry '" + entry.name() + "' claims to inflate from " + entry.compressedSize()
                    + " to " + entry.size() + " bytes, more than the " + maxRatio + ":1 limit for this entry");
        }
        byte[] out;
        if (entry.method() == STORED) {
            out = rawBytes(entry, maxBytes);
        } else if (entry.method() == DEFLATED) {
            out = inflate(entry, ByteBuffer.wrap(rawBytes(entry, maxBytes)));
        } else {
            throw format(source, "entry '" + entry.name() + "' uses unsupported compression method "
                    + entry.method());
        }
        CRC32 crc = new CRC32();
        crc.update(out);
        if ((int) crc.getValue() != entry.crc()) {
            throw format(source, "entry '" + entry.name() + "' fails its CRC-32 check (corrupt archive)");
        }
        return out;
    }

    /** The entry's stored bytes, read (not mapped) into the heap; deflate never grows data by more than ~1%. */
    private byte[] rawBytes(Entry entry, int maxBytes) {
        long offset = dataOffset(entry);
        if (entry.compressedSize() > maxBytes + maxBytes / 64L + 1024) {
            throw format(source, "entry '" + entry.name() + "' has a compressed size of " + entry.compressedSize()
                    + " bytes, more than its size limit of " + maxBytes + " allows");
        }
        byte[] raw = new byte[(int) entry.compressedSize()];
        source.read(offset, raw, 0, raw.length, null, "entry '" + entry.name() + "'");
        return raw;
    }

    private long dataOffset(Entry entry) {
        if (entry.encrypted()) {
            throw format(source, "entry '" + entry.name() + "' is encrypted");
        }
        if (entry.method() == STORED && entry.compressedSize() != entry.size()) {
            throw format(source, "stored entry '" + entry.name() + "' has compressed size "
                    + entry.compressedSize() + " but size " + entry.size());
        }
        long header = entry.localHeaderOffset();
        if (header > source.size() - LOCAL_RECORD_SIZE) {
            throw format(source, "entry '" + entry.name() + "': local header offset " + header
                    + " is outside the archive");
        }
        ByteBuffer local = source.slice(header, LOCAL_RECORD_SIZE);
        if (local.getInt(0) != LOCAL_HEADER) {
            throw format(source, "entry '" + entry.name() + "': no local file header at offset " + header);
        }
        int nameLength = local.getShort(26) & 0xFFFF;
        int extraLength = local.getShort(28) & 0xFFFF;
        long dataStart = header + LOCAL_RECORD_SIZE + nameLength + extraLength;
        if (dataStart > source.size() - entry.compressedSize()) {
            throw format(source, "entry '" + entry.name() + "': data [" + dataStart + ", +" + entry.compressedSize()
                    + ") runs past the end of the archive (" + source.size() + " bytes)");
        }
        checkLocalHeader(entry, local, source.slice(header + LOCAL_RECORD_SIZE, nameLength),
                source.slice(header + LOCAL_RECORD_SIZE + nameLength, extraLength), dataStart);
        return dataStart;
    }

    /**
     * The local header must describe the same entry as the central record: readers that trust either one (zip
     * tools, torch.load) must see the same name, method and bytes. With bit 3 set (torch.save sets it) the local CRC
     * and sizes are zero and a data descriptor after the data carries them.
     */
    private void checkLocalHeader(Entry entry, ByteBuffer local, ByteBuffer name, ByteBuffer extra, long dataStart) {
        String where = "entry '" + entry.name() + "': local header at offset " + entry.localHeaderOffset();
        String localName = decodeName(name);
        if (!localName.equals(entry.name())) {
            throw format(source, where + " names '" + localName + "', not the central directory's '" + entry.name()
                    + "'");
        }
        int method = local.getShort(8) & 0xFFFF;
        if (method != entry.method()) {
            throw format(source, where + " says compression method " + method + ", the central directory "
                    + entry.method());
        }
        int localCrc = local.getInt(14);
        long compressed = local.getInt(18) & 0xFFFFFFFFL;
        long size = local.getInt(22) & 0xFFFFFFFFL;
        boolean descriptor = (local.getShort(6) & 8) != 0;
        if (descriptor && localCrc == 0 && compressed == 0 && size == 0) {
            checkDescriptor(entry, where, dataStart + entry.compressedSize());
            return;
        }
        if (size == 0xFFFFFFFFL || compressed == 0xFFFFFFFFL) {
            ByteBuffer zip64 = findExtra(extra.order(ByteOrder.LITTLE_ENDIAN), ZIP64_EXTRA_ID);
            int field = 0;
            if (zip64 != null && size == 0xFFFFFFFFL) {
                size = zip64Field(source, zip64, field++, entry.name());
            }
            if (zip64 != null && compressed == 0xFFFFFFFFL) {
                compressed = zip64Field(source, zip64, field, entry.name());
            }
        }
        if (localCrc != entry.crc() || compressed != entry.compressedSize() || size != entry.size()) {
            throw format(source, String.format("%s disagrees with the central directory: CRC %08x, sizes %d/%d "
                    + "there versus CRC %08x, sizes %d/%d (compressed/uncompressed)", where, localCrc, compressed,
                    size, entry.crc(), entry.compressedSize(), entry.size()));
        }
    }

    /** The data descriptor: an optional signature, then CRC-32 and the two sizes (4 or 8 bytes each). */
    private void checkDescriptor(Entry entry, String where, long at) {
        long available = Math.min(24, source.size() - at);
        ByteBuffer descriptor = source.slice(at, Math.max(0, available));
        int skip = available >= 4 && descriptor.getInt(0) == DATA_DESCRIPTOR ? 4 : 0;
        if (available < skip + 4) {
            throw format(source, where + " promises a data descriptor after the data, but the archive ends");
        }
        int crc = descriptor.getInt(skip);
        if (crc != entry.crc()) {
            throw format(source, String.format("%s: data descriptor CRC %08x disagrees with the central directory's "
                    + "%08x", where, crc, entry.crc()));
        }
    }

    private static ByteBuffer findExtra(ByteBuffer extra, int wanted) {
        int pos = 0;
        while (pos + 4 <= extra.capacity()) {
            int id = extra.getShort(pos) & 0xFFFF;
            int length = extra.getShort(pos + 2) & 0xFFFF;
            if (pos + 4 + length > extra.capacity()) {
                return null;
            }
            if (id == wanted) {
                return extra.slice(pos + 4, length).order(ByteOrder.LITTLE_ENDIAN);
            }
            pos += 4 + length;
        }
        return null;
    }

    private byte[] inflate(Entry entry, ByteBuffer compressed) {
        if (entry.size() > entry.compressedSize() * MAX_DEFLATE_RATIO + 64) {
            throw format(source, "entry '" + entry.name() + "' claims to inflate from " + entry.compressedSize()
                    + " to " + entry.size() + " bytes, beyond what deflate can produce");
        }
        byte[] out = new byte[(int) entry.size()];
        Inflater inflater = new Inflater(true);
        try {
            inflater.setInput(compressed);
            int filled = 0;
            while (!inflater.finished()) {
                int produced = inflater.inflate(out, filled, out.length - filled);
                filled += produced;
                if (inflater.finished()) {
                    break;
                }
                if (filled == out.length) {
                    // Output is full: one more byte tells a longer stream from an exact fit.
                    if (inflater.inflate(new byte[1]) > 0) {
                        throw format(source, "entry '" + entry.name() + "' inflates to more than its declared "
                                + entry.size() + " bytes");
                    }
                    if (inflater.finished()) {
                        break;
                    }
                    throw format(source, "entry '" + entry.name() + "': deflate stream is truncated or corrupt");
                }
                if (produced == 0) {
                    // All input was supplied at once, so no progress with room left means it ran out.
                    throw format(source, "entry '" + entry.name() + "': deflate stream is truncated or corrupt");
                }
            }
            if (filled != out.length) {
                throw format(source, "entry '" + entry.name() + "' inflates to " + filled + " bytes, not the declared "
                        + entry.size());
            }
            return out;
        } catch (DataFormatException e) {
            throw new CheckpointFormatException(source.name() + ": entry '" + entry.name()
                    + "' has corrupt deflate data: " + e.getMessage(), e);
        } finally {
            inflater.end();
        }
    }

    private static CheckpointFormatException format(ByteSource source, String problem) {
        return new CheckpointFormatException(source.name() + ": " + problem);
    }
}
