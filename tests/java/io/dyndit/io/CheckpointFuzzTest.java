package io.dyndit.io;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import io.dyndit.core.DynditException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutates valid checkpoints (bit flips, overwritten integers, truncation, insertions, deletions) and requires every
 * open-and-read-all to either succeed or fail with a DynditException: never an unchecked JDK exception, an
 * OutOfMemoryError or a hang. The seed is fresh each run and appears in every failure message; set
 * -Ddyndit.fuzz.seed=N to replay one.
 */
class CheckpointFuzzTest {
    private static final int SAFETENSORS_CASES = 1500;
    private static final int ZIP_CASES = 1000;
    private static final int PICKLE_CASES = 1000;
    private static final int FILE_CASES = 60;

    @TempDir
    Path dir;

    private final StringBuilder summary = new StringBuilder();

    @Test
    void mutatedCheckpointsOnlyEverFailWithTypedExceptions() {
        long seed = Long.getLong("dyndit.fuzz.seed", new Random().nextLong());
        System.out.println("CheckpointFuzzTest seed " + seed + " (replay with -Ddyndit.fuzz.seed=" + seed + ")");
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> run(seed), "fuzzing hung; seed " + seed);
        System.out.println("CheckpointFuzzTest outcomes:" + summary);
    }

    private void run(long seed) throws IOException {
        Random random = new Random(seed);
        byte[] safetensors = GoldenFiles.bytes(GoldenFiles.DIT, "weights.safetensors");
        byte[] io = GoldenFiles.bytes(GoldenFiles.DIT, "io.safetensors");
        byte[] ditPt = GoldenFiles.bytes(GoldenFiles.DIT, "weights.pt");
        byte[] dyditPt = GoldenFiles.bytes(GoldenFiles.DYDIT, "weights.pt");

        Function<byte[], TensorFile> readSafetensors = bytes -> SafetensorsReader.read(ByteBuffer.wrap(bytes), "fuzz");
        Function<byte[], TensorFile> readTorch = bytes -> TorchCheckpointReader.read(ByteBuffer.wrap(bytes), "fuzz");

        campaign("safetensors", seed, random, SAFETENSORS_CASES, readSafetensors, r -> {
            byte[] original = r.nextBoolean() ? safetensors : io;
            int header = (int) (8 + ByteBuffer.wrap(original).order(ByteOrder.LITTLE_ENDIAN).getLong(0));
            return new Mutant(original, 0, header);
        });
        campaign("zip", seed, random, ZIP_CASES, readTorch, r -> {
            byte[] original = r.nextBoolean() ? ditPt : dyditPt;
            // Hot region: the end records and central directory (the tail), plus the first local header and pickle.
            int tail = Math.max(0, original.length - 4096);
            return r.nextBoolean() ? new Mutant(original, tail, original.length) : new Mutant(original, 0, 3072);
        });
        List<Map<String, byte[]>> archives = List.of(entries(GoldenFiles.DIT), entries(GoldenFiles.DYDIT));
        campaign("pickle", seed, random, PICKLE_CASES, readTorch, r -> {
            // Mutate data.pkl itself and rebuild the zip, so its CRC matches and the unpickler sees the damage.
            Map<String, byte[]> entries = archives.get(r.nextInt(archives.size()));
            String pickleName = entries.keySet().iterator().next();
            Mutant pickle = new Mutant(entries.get(pickleName), 0, entries.get(pickleName).length);
            return new Mutant(null, 0, 0) {
                @Override
                byte[] apply(Random random) {
                    byte[] mutated = pickle.apply(random);
                    description = pickle.description;
                    TestZipWriter zip = new TestZipWriter();
                    entries.forEach((name, bytes) -> zip.add(name, name.equals(pickleName) ? mutated : bytes));
                    return zip.toBytes();
                }
            };
        });
        fileCampaign(seed, random, safetensors, ditPt);
    }

    /** Runs {@code cases} mutants through {@code reader}; any non-Dyndit throwable fails with a replayable report. */
    private void campaign(String name, long seed, Random random, int cases, Function<byte[], TensorFile> reader,
            Function<Random, Mutant> source) {
        int opened = 0;
        int refused = 0;
        for (int i = 0; i < cases; i++) {
            Mutant mutant = source.apply(random);
            byte[] bytes = mutant.apply(random);
            try (TensorFile file = reader.apply(bytes)) {
                readEverything(file);
                opened++;
            } catch (DynditException expected) {
                refused++;
            } catch (Throwable unexpected) {
                fail(report(name, seed, i, mutant.description, unexpected), unexpected);
            }
        }
        summary.append(String.format("%n  %-11s %5d read fine, %5d refused with a DynditException", name, opened,
                refused));
    }

    /** A few mutants go through real files, so the memory-mapped path and format detection are covered too. */
    private void fileCampaign(long seed, Random random, byte[] safetensors, byte[] pt) throws IOException {
        int refused = 0;
        for (int i = 0; i < FILE_CASES; i++) {
            boolean zip = i % 2 == 0;
            byte[] original = zip ? pt : safetensors;
            Mutant mutant = new Mutant(original, 0, zip ? original.length : 2048);
            Path path = Files.write(dir.resolve("mutant-" + i), mutant.apply(random));
            try (TensorFile file = TensorFiles.open(path)) {
                readEverything(file);
            } catch (DynditException expected) {
                refused++;
            } catch (Throwable unexpected) {
                fail(report("file", seed, i, mutant.description, unexpected), unexpected);
            }
        }
        summary.append(String.format("%n  %-11s %5d read fine, %5d refused with a DynditException", "files",
                FILE_CASES - refused, refused));
    }

    private static void readEverything(TensorFile file) {
        for (String name : file.names()) {
            StoredTensor tensor = file.get(name);
            if (tensor.dtype().isFloatingPoint()) {
                tensor.toFloatArray();
            } else {
                tensor.toLongArray();
            }
        }
        file.metadata();
    }

    private static String report(String campaign, long seed, int index, String mutation, Throwable thrown) {
        StringWriter trace = new StringWriter();
        thrown.printStackTrace(new PrintWriter(trace));
        return "fuzz seed " + seed + ", campaign " + campaign + ", case " + index + " (" + mutation + "): expected "
                + "success or a DynditException but got " + thrown + "\n" + trace;
    }

    private static Map<String, byte[]> entries(String caseName) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(GoldenFiles.path(caseName, "weights.pt").toFile())) {
            for (ZipEntry entry : java.util.Collections.list(zip.entries())) {
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
        if (!entries.keySet().iterator().next().endsWith("data.pkl")) {
            throw new IllegalStateException("expected data.pkl first in " + caseName);
        }
        return entries;
    }

    /** One to four random edits of a copy of {@code original}, mostly inside [hotStart, hotEnd). */
    private static class Mutant {
        private final byte[] original;
        private final int hotStart;
        private final int hotEnd;
        String description = "";

        Mutant(byte[] original, int hotStart, int hotEnd) {
            this.original = original;
            this.hotStart = hotStart;
            this.hotEnd = hotEnd;
        }

        byte[] apply(Random random) {
            byte[] bytes = original.clone();
            List<String> edits = new ArrayList<>();
            int count = 1 + random.nextInt(4);
            for (int i = 0; i < count && bytes.length > 0; i++) {
                int at = position(random, bytes.length);
                switch (random.nextInt(6)) {
                    case 0 -> {
                        int bit = random.nextInt(8);
                        bytes[at] ^= (byte) (1 << bit);
                        edits.add("flip bit " + bit + " @" + at);
                    }
                    case 1 -> {
                        byte value = (byte) new int[] {0, 0xFF, 0x7F, 0x80, random.nextInt(256)}[random.nextInt(5)];
                        bytes[at] = value;
                        edits.add("set @" + at + "=" + (value & 0xFF));
                    }
                    case 2 -> {
                        long value = new long[] {0, -1, Integer.MAX_VALUE, 0xFFFFFFFFL, Long.MAX_VALUE,
                                bytes.length, bytes.length + 1, random.nextInt(1 << 16)}[random.nextInt(8)];
                        int width = random.nextBoolean() ? 4 : 8;
                        for (int b = 0; b < width && at + b < bytes.length; b++) {
                            bytes[at + b] = (byte) (value >>> (8 * b));
                        }
                        edits.add("write " + width + "-byte " + value + " @" + at);
                    }
                    case 3 -> {
                        bytes = java.util.Arrays.copyOf(bytes, at);
                        edits.add("truncate to " + at);
                    }
                    case 4 -> {
                        byte[] inserted = new byte[1 + random.nextInt(16)];
                        random.nextBytes(inserted);
                        byte[] longer = new byte[bytes.length + inserted.length];
                        System.arraycopy(bytes, 0, longer, 0, at);
                        System.arraycopy(inserted, 0, longer, at, inserted.length);
                        System.arraycopy(bytes, at, longer, at + inserted.length, bytes.length - at);
                        bytes = longer;
                        edits.add("insert " + inserted.length + " bytes @" + at);
                    }
                    default -> {
                        int length = Math.min(1 + random.nextInt(32), bytes.length - at);
                        byte[] shorter = new byte[bytes.length - length];
                        System.arraycopy(bytes, 0, shorter, 0, at);
                        System.arraycopy(bytes, at + length, shorter, at, bytes.length - at - length);
                        bytes = shorter;
                        edits.add("delete " + length + " bytes @" + at);
                    }
                }
            }
            description = String.join(", ", edits);
            return bytes;
        }

        private int position(Random random, int length) {
            int end = Math.min(hotEnd, length);
            if (end > hotStart && random.nextInt(10) < 7) {
                return hotStart + random.nextInt(end - hotStart);
            }
            return random.nextInt(length);
        }
    }
}
