package io.dyndit.spark;

import io.dyndit.io.AtomicOutput;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

/**
 * Merges the shards of a complete run into {@code samples.npz} in the layout of the ADM evaluation suite
 * (guided-diffusion's sample.py: {@code np.savez(path, arr, label_arr)}): {@code arr_0} the samples (uint8 NHWC images
 * when decoded, float32 latents otherwise) and {@code arr_1} the int64 labels, every global index exactly once, in
 * order. The samples are streamed shard by shard, never held whole (50,000 images of 256² are 9.8 GB): a first pass
 * checks every shard (checksum, indices, labels, dtype and shape) and computes the member's CRC, a second copies.
 *
 * <p>Thread-safety: stateless static functions; two merges into one out-dir race (the last rename wins).
 */
final class SampleSetMerge {
    static final String FILE = "samples.npz";
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};

    private SampleSetMerge() {}

    /** Writes {@code outDir/samples.npz} from the manifest's shards (all K of them, verified); returns its path. */
    static Path merge(Path outDir, GenerationSettings s, Manifest manifest) {
        List<Manifest.Entry> entries = manifest.entries();
        if (entries.size() != s.shards()) {
            throw new GenerateFailure("cannot merge: " + entries.size() + " of " + s.shards() + " shards are complete");
        }
        long[] labels = new long[s.numSamples()];
        CRC32 crc = new CRC32();
        String descr = null;
        long[] sampleShape = null;
        byte[] header = null;
        try {
            for (Manifest.Entry e : entries) { // pass 1: check, and the CRC that a stored zip member declares first
                Path file = outDir.resolve(e.file());
                if (!Files.exists(file)) {
                    throw new GenerateFailure("cannot merge: " + file + " is missing; rerun without --merge to make it");
                }
                if (!ShardFile.sha256(file).equals(e.sha256())) {
                    throw new GenerateFailure("cannot merge: " + file + " does not match its checksum in the manifest "
                            + "(corrupt); rerun without --merge to regenerate it");
                }
                try (ZipFile zip = new ZipFile(file.toFile())) {
                    checkIndicesAndLabels(zip, s, e, labels);
                    try (NpyMember m = NpyMember.open(zip, "samples")) {
                        long[] per = Arrays.copyOfRange(m.shape, 1, m.shape.length);
                        if (m.shape.length == 0 || m.shape[0] != e.count()) {
                            throw new GenerateFailure(file + ": samples hold " + Arrays.toString(m.shape) + ", expected "
                                    + e.count() + " samples");
                        }
                        if (descr == null) { // the member's CRC covers its .npy header, then the values
                            descr = m.descr;
                            sampleShape = per;
                            header = npyHeader(descr, prepend(s.numSamples(), per));
                            crc.update(header);
                        } else if (!descr.equals(m.descr) || !Arrays.equals(sampleShape, per)) {
                            throw new GenerateFailure(file + ": samples are " + m.descr + " " + Arrays.toString(per)
                                    + ", other shards " + descr + " " + Arrays.toString(sampleShape));
                        }
                        long bytes = m.count() * m.elementSize();
                        if (copy(m, bytes, crc, null) != bytes) {
                            throw new GenerateFailure(file + ": samples end early");
                        }
                    }
                }
            }
        } catch (IOException e) {
            throw new GenerateFailure("cannot merge: " + Words.of(e), e);
        }
        long dataBytes = s.numSamples() * elementsPerSample(sampleShape) * elementSize(descr);
        final long arr0Crc = crc.getValue(), size = header.length + dataBytes;
        final byte[] arr0Header = header;
        Path target = outDir.resolve(FILE);
        AtomicOutput.write(target, tmp -> {
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
                    ZipOutputStream zip = new ZipOutputStream(file)) {
                zip.setMethod(ZipOutputStream.STORED);
                zip.putNextEntry(stored("arr_0.npy", size, arr0Crc));
                zip.write(arr0Header);
                for (Manifest.Entry e : entries) { // pass 2: the same bytes, in index order
                    try (ZipFile z = new ZipFile(outDir.resolve(e.file()).toFile());
                            NpyMember m = NpyMember.open(z, "samples")) {
                        copy(m, m.count() * m.elementSize(), null, zip);
                    }
                }
                zip.closeEntry();
                byte[] labelBytes = longsNpy(labels);
                CRC32 lc = new CRC32();
                lc.update(labelBytes);
                zip.putNextEntry(stored("arr_1.npy", labelBytes.length, lc.getValue()));
                zip.write(labelBytes);
                zip.closeEntry();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot write " + target + ": " + Words.of(e), e);
            }
        });
        return target;
    }

    /** Indices must be first..first+count-1 and labels those the run assigns to them. */
    private static void checkIndicesAndLabels(ZipFile zip, GenerationSettings s, Manifest.Entry e, long[] labels)
            throws IOException {
        long[] idx, lab;
        try (NpyMember m = NpyMember.open(zip, "indices")) {
            idx = m.longs();
        }
        try (NpyMember m = NpyMember.open(zip, "labels")) {
            lab = m.longs();
        }
        if (idx.length != e.count() || lab.length != e.count()) {
            throw new GenerateFailure(zip.getName() + ": holds " + idx.length + " samples, the manifest says "
                    + e.count());
        }
        for (int j = 0; j < idx.length; j++) {
            if (idx[j] != e.first() + j || lab[j] != s.label(idx[j])) {
                throw new GenerateFailure(zip.getName() + ": entry " + j + " is index " + idx[j] + " label " + lab[j]
                        + ", expected index " + (e.first() + j) + " label " + s.label(e.first() + j));
            }
            labels[e.first() + j] = lab[j];
        }
    }

    /** Copies up to {@code bytes} values' bytes into the CRC and/or the stream; returns how many there were. */
    private static long copy(NpyMember m, long bytes, CRC32 crc, OutputStream out) throws IOException {
        byte[] buf = new byte[1 << 20];
        long done = 0;
        while (done < bytes) {
            int r = m.values.read(buf, 0, (int) Math.min(buf.length, bytes - done));
            if (r < 0) {
                break;
            }
            if (crc != null) {
                crc.update(buf, 0, r);
            }
            if (out != null) {
                out.write(buf, 0, r);
            }
            done += r;
        }
        return done;
    }

    private static ZipEntry stored(String name, long size, long crc) {
        ZipEntry e = new ZipEntry(name);
        e.setMethod(ZipEntry.STORED);
        e.setSize(size);
        e.setCompressedSize(size);
        e.setCrc(crc);
        return e;
    }

    private static long[] prepend(long first, long[] rest) {
        long[] out = new long[rest.length + 1];
        out[0] = first;
        System.arraycopy(rest, 0, out, 1, rest.length);
        return out;
    }

    private static long elementsPerSample(long[] perSample) {
        long n = 1;
        for (long d : perSample) {
            n *= d;
        }
        return n;
    }

    private static int elementSize(String descr) {
        return descr.equals("|u1") ? 1 : descr.equals("<i8") ? 8 : 4;
    }

    private static byte[] longsNpy(long[] values) {
        byte[] header = npyHeader("<i8", new long[] {values.length});
        ByteBuffer b = ByteBuffer.allocate(header.length + 8 * values.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(header);
        b.asLongBuffer().put(values);
        return b.array();
    }

    /** The .npy 1.0 header as np.save writes it (padded with spaces so the data starts at a multiple of 64). */
    static byte[] npyHeader(String descr, long[] shape) {
        StringBuilder t = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            t.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        t.append(shape.length == 1 ? ",)" : ")");
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + t + ", }";
        int unpadded = MAGIC.length + 2 + dict.length() + 1;
        int pad = (64 - unpadded % 64) % 64;
        ByteBuffer b = ByteBuffer.allocate(unpadded + pad).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putShort((short) (dict.length() + pad + 1)).put(dict.getBytes(StandardCharsets.US_ASCII));
        b.put(" ".repeat(pad).getBytes(StandardCharsets.US_ASCII)).put((byte) '\n');
        return b.array();
    }
}
