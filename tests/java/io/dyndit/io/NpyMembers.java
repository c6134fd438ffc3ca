package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Test-side reader of .npz members the way numpy.load reads them: header dict, dtype, shape, little-endian data. */
public final class NpyMembers {
    /** One member: its header dict text and its data. */
    public record Member(String dict, ByteBuffer data) {
        public String descr() {
            return field("descr");
        }

        public String shape() {
            int s = dict.indexOf("'shape': (");
            return dict.substring(s + 10, dict.indexOf(')', s));
        }

        private String field(String key) {
            int s = dict.indexOf("'" + key + "': '") + key.length() + 5;
            return dict.substring(s, dict.indexOf('\'', s));
        }

        public float[] floats() {
            float[] v = new float[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
            return v;
        }

        public long[] longs() {
            long[] v = new long[data.remaining() / 8];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(v);
            return v;
        }

        public byte[] bytes() {
            byte[] v = new byte[data.remaining()];
            data.duplicate().get(v);
            return v;
        }
    }

    private NpyMembers() {}

    public static Member read(ZipFile zip, String name) throws Exception {
        ZipEntry e = zip.getEntry(name);
        assertTrue(e != null, "member " + name);
        byte[] b;
        try (var in = zip.getInputStream(e)) {
            b = in.readAllBytes();
        }
        assertEquals((byte) 0x93, b[0]);
        assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
        int len = (b[8] & 0xFF) | (b[9] & 0xFF) << 8, total = 10 + len;
        String dict = new String(b, 10, len, StandardCharsets.US_ASCII).strip();
        assertTrue(dict.contains("'fortran_order': False"), dict);
        return new Member(dict, ByteBuffer.wrap(b, total, b.length - total).slice());
    }
}
