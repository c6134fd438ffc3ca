package io.dyndit.spark;

import io.dyndit.io.AtomicOutput;
import io.dyndit.io.NpzWriter;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * A shard's file, {@code shard-NNNNN.npz}: {@code samples} (float32 latents [n,C,I,I], or uint8 images [n,H,W,3]
 * when decoded), {@code labels} and {@code indices} (int64 [n], the global sample indices). Written all or nothing
 * (temporary file, then rename), so a failed task leaves no partial shard.
 *
 * <p>Thread-safety: stateless static functions, safe from any thread.
 */
final class ShardFile {
    private ShardFile() {}

    static String name(int shard) {
        return String.format(Locale.ROOT, "shard-%05d.npz", shard);
    }

    /** Latents [n, C, I, I] or, with {@code images} non-null, decoded images [n, H, W, 3]. */
    record Samples(long[] shape, float[] latents, byte[] images) {}

    static void write(Path file, Samples samples, long[] labels, long[] indices) {
        NpzWriter w = new NpzWriter();
        if (samples.images() != null) {
            w.addUnsignedBytes("samples", samples.shape(), samples.images());
        } else {
            w.addFloats("samples", samples.shape(), samples.latents());
        }
        long[] n = {indices.length};
        w.addLongs("labels", n, labels).addLongs("indices", n, indices);
        AtomicOutput.write(file, tmp -> { // AtomicOutput keeps the umask's permissions, for readers on other machines
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                w.writeTo(out);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + file + ": " + Words.of(e), e);
            }
        });
    }

    /** Hex SHA-256 of the file's bytes. */
    static String sha256(Path file) throws IOException {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e); // every Java SE platform must have it
        }
        byte[] buf = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file)) {
            for (int r; (r = in.read(buf)) > 0; ) {
                md.update(buf, 0, r);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}
