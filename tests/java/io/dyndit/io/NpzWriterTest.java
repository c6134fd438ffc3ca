package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .npz files are parsed back here the way numpy.load reads them (there is no numpy in this environment). */
class NpzWriterTest {
    @TempDir
    Path tmp;

    /** A parsed .npy member: header dict text, and the data bytes after the header. */
    private record Npy(String dict, int headerTotal, ByteBuffer data) {}

    private static Npy parseNpy(byte[] b) {
        assertEquals((byte) 0x93, b[0]);
        assertEquals("NUMPY", new String(b, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, b[6], "major version");
        assertEquals(0, b[7], "minor version");
        int len = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
        int total = 10 + len;
        assertEquals(0, total % 64, "magic + length + header is a multiple of 64");
        assertEquals('\n', b[total - 1], "header ends with a newline");
        String header = new String(b, 10, len - 1, StandardCharsets.US_ASCII);
        String dict = header.stripTrailing();
        assertTrue(header.substring(dict.length()).chars().allMatch(c -> c == ' '), "padding is spaces");
        return new Npy(dict, total, ByteBuffer.wrap(b, total, b.length - total).slice().order(ByteOrder.LITTLE_ENDIAN));
    }

    private static byte[] member(ZipFile zip, String name) throws Exception {
        ZipEntry e = zip.getEntry(name);
        assertTrue(e != null, "member " + name);
        assertEquals(ZipEntry.STORED, e.getMethod());
        try (var in = zip.getInputStream(e)) {
            return in.readAllBytes();
        }
    }

    @Test
    void writesFloatsLongsAndBytesReadableAsNpy() throws Exception {
        float[] f = new float[2 * 3 * 4];
        for (int i = 0; i < f.length; i++) {
            f[i] = i * 0.5f - 3;
        }
        long[] l = {7, -1, Long.MAX_VALUE};
        byte[] u = {0, (byte) 255, 127};
        Path p = tmp.resolve("x.npz");
        new NpzWriter().addFloats("arr_0", new long[] {2, 3, 4}, f).addLongs("labels", new long[] {3}, l)
                .addUnsignedBytes("img", new long[] {1, 1, 3}, u).write(p);
        try (ZipFile zip = new ZipFile(p.toFile())) {
            List<String> names = new ArrayList<>();
            zip.stream().forEach(e -> names.add(e.getName()));
            assertEquals(List.of("arr_0.npy", "labels.npy", "img.npy"), names);

            Npy a = parseNpy(member(zip, "arr_0.npy"));
            assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }", a.dict());
            assertEquals(128, a.headerTotal(), "10 + 63 + 1 = 74 bytes, padded to 128");
            float[] back = new float[f.length];
            a.data().asFloatBuffer().get(back);
            assertArrayEquals(f, back);
            assertEquals(f.length * 4, a.data().remaining());

            Npy b = parseNpy(member(zip, "labels.npy"));
            assertEquals("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", b.dict());
            long[] lb = new long[3];
            b.data().asLongBuffer().get(lb);
            assertArrayEquals(l, lb);

            Npy c = parseNpy(member(zip, "img.npy"));
            assertEquals("{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1, 3), }", c.dict());
            assertEquals(255, c.data().get(1) & 0xFF);
        }
        try (var s = Files.list(tmp)) {
            assertEquals(List.of(p), s.toList(), "no temporary file left");
        }
    }

    @Test
    void headerPaddingRule() {
        // scalar shape and a long shape: always a multiple of 64 with at least the '\n'
        for (long[] shape : new long[][] {{}, {5}, {50000, 4, 32, 32}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}) {
            byte[] h = NpzWriter.npyHeader("<f4", shape);
            Npy n = parseNpy(h);
            assertEquals(h.length, n.headerTotal());
            assertTrue(h.length - 10 - 1 - n.dict().length() < 64, "minimal padding");
        }
        assertEquals("()", NpzWriter.shapeText(new long[] {}));
        assertEquals("(5,)", NpzWriter.shapeText(new long[] {5}));
        assertEquals("(50000, 4, 32, 32)", NpzWriter.shapeText(new long[] {50000, 4, 32, 32}));
    }

    @Test
    void bigArraysStreamInChunksAndOutputIsDeterministic() throws Exception {
        float[] f = new float[100_003];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) Math.sin(i);
        }
        ByteArrayOutputStream a = new ByteArrayOutputStream(), b = new ByteArrayOutputStream();
        new NpzWriter().addFloats("arr_0", new long[] {f.length}, f).writeTo(a);
        new NpzWriter().addFloats("arr_0", new long[] {f.length}, f).writeTo(b);
        assertArrayEquals(a.toByteArray(), b.toByteArray());
        Path p = tmp.resolve("big.npz");
        Files.write(p, a.toByteArray());
        try (ZipFile zip = new ZipFile(p.toFile())) {
            Npy n = parseNpy(member(zip, "arr_0.npy"));
            float[] back = new float[f.length];
            n.data().asFloatBuffer().get(back);
            assertArrayEquals(f, back);
        }
    }

    @Test
    void badArraysAndUnwritablePathsAreRefused() {
        assertThrows(CheckpointException.class, () -> new NpzWriter().addFloats("a", new long[] {2, 2}, new float[3]));
        assertThrows(CheckpointException.class, () -> new NpzWriter().addFloats("a", new long[] {1}, new float[1])
                .addLongs("a", new long[] {1}, new long[1]));
        assertThrows(CheckpointException.class, () -> new NpzWriter().addFloats("a/b", new long[] {1}, new float[1]));
        Path missing = tmp.resolve("no/dir/x.npz");
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> new NpzWriter().addFloats("a", new long[] {1}, new float[1]).write(missing));
        assertTrue(e.getMessage().contains(missing.toString()));
    }
}
