package io.dyndit.spark;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * One .npy member of an .npz written by {@link io.dyndit.io.NpzWriter} (format 1.0 or 2.0, C order, little-endian):
 * its dtype and shape, and a stream positioned at the first value.
 *
 * <p>Thread-safety: not thread-safe (holds an open stream); one reader per thread.
 */
final class NpyMember implements AutoCloseable {
    private static final Pattern DESCR = Pattern.compile("'descr':\\s*'([^']*)'");
    private static final Pattern SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order':\\s*True");

    final String descr;
    final long[] shape;
    final DataInputStream values;

    private NpyMember(String descr, long[] shape, InputStream values) {
        this.descr = descr;
        this.shape = shape;
        this.values = new DataInputStream(values);
    }

    /** Opens member {@code name}.npy; throws IOException naming the file when it is missing or malformed. */
    static NpyMember open(ZipFile zip, String name) throws IOException {
        ZipEntry e = zip.getEntry(name + ".npy");
        if (e == null) {
            throw new IOException(zip.getName() + " has no array '" + name + "'");
        }
        InputStream in = zip.getInputStream(e);
        try {
            byte[] magic = in.readNBytes(8);
            if (magic.length < 8 || (magic[0] & 0xFF) != 0x93 || magic[1] != 'N' || magic[6] < 1 || magic[6] > 2) {
                throw new IOException(zip.getName() + ": array '" + name + "' is not a .npy version 1 or 2 member");
            }
            int lengthBytes = magic[6] == 1 ? 2 : 4;
            byte[] len = in.readNBytes(lengthBytes);
            int headerLength = (int) (lengthBytes == 2 ? ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getShort()
                    & 0xFFFF : ByteBuffer.wrap(len).order(ByteOrder.LITTLE_ENDIAN).getInt());
            String header = new String(in.readNBytes(headerLength), StandardCharsets.US_ASCII);
            Matcher d = DESCR.matcher(header), s = SHAPE.matcher(header);
            if (!d.find() || !s.find() || FORTRAN.matcher(header).find()) {
                throw new IOException(zip.getName() + ": array '" + name + "' has an unreadable header: " + header.trim());
            }
            String[] dims = s.group(1).split(",");
            long[] shape = new long[dims.length];
            int rank = 0;
            for (String dim : dims) {
                if (!dim.isBlank()) {
                    shape[rank++] = Long.parseLong(dim.trim());
                }
            }
            return new NpyMember(d.group(1), java.util.Arrays.copyOf(shape, rank), in);
        } catch (NumberFormatException ex) {
            in.close();
            throw new IOException(zip.getName() + ": array '" + name + "' has a malformed shape", ex);
        } catch (IOException | RuntimeException ex) {
            in.close();
            throw ex;
        }
    }

    long count() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** All values of an {@code <i8} array. */
    long[] longs() throws IOException {
        long[] out = new long[Math.toIntExact(count())];
        all("<i8", "int64", 8).asLongBuffer().get(out);
        return out;
    }

    /** All values of a {@code <f4} array. */
    float[] floats() throws IOException {
        float[] out = new float[Math.toIntExact(count())];
        all("<f4", "float32", 4).asFloatBuffer().get(out);
        return out;
    }

    /** All values of a {@code |u1} array (decoded images). */
    byte[] bytes() throws IOException {
        byte[] out = new byte[Math.toIntExact(count())];
        all("|u1", "uint8", 1).get(out);
        return out;
    }

    /** The whole array's bytes, little-endian, after checking its dtype. */
    private ByteBuffer all(String expected, String words, int size) throws IOException {
        if (!descr.equals(expected)) {
            throw new IOException("expected " + words + " ('" + expected + "') values, found '" + descr + "'");
        }
        int bytes = Math.toIntExact(count() * size);
        ByteBuffer b = ByteBuffer.wrap(values.readNBytes(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() != bytes) {
            throw new IOException("array ends early");
        }
        return b;
    }

    int elementSize() throws IOException {
        return switch (descr) {
            case "<f4" -> 4;
            case "<i8" -> 8;
            case "|u1" -> 1;
            default -> throw new IOException("unsupported dtype '" + descr + "'");
        };
    }

    @Override
    public void close() throws IOException {
        values.close();
    }
}
