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
import java.util.Collections;
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
 * Mutates valid checkpoints and JSON and requires every open-and-read-all to either succeed or fail with a
 * DynditException: never an unchecked JDK exception, an OutOfMemoryError or a hang. The seed is fresh each run and
 * appears in every failure message; -Ddyndit.fuzz.seed=N replays one, -Ddyndit.fuzz.scale=K runs K times as many
 * cases (a soak). Each campaign must also reach the parser: most mutants have to get past the format's first check,
 * and the refusals have to be varied (distinct messages, digits ignored), or the fuzz is only testing one branch.
 */
class CheckpointFuzzTest {
    private static final int SCALE = Integer.getInteger("dyndit.fuzz.scale", 1);
    private static final int SAFETENSORS_CASES = 1000 * SCALE;
    private static final int ZIP_CASES = 800 * SCALE;
    private static final int PICKLE_CASES = 800 * SCALE;
    private static final int FILE_CASES = 60 * SCALE;
    private static final int JSON_CASES = 600 * SCALE;

    @TempDir
    Path dir;

    private final StringBuilder summary = new StringBuilder();

    @Test
    void mutatedCheckpointsOnlyEverFailWithTypedExceptions() {
        long seed = Long.getLong("dyndit.fuzz.seed", io.dyndit.testing.Seeds.fresh());
        System.out.println("CheckpointFuzzTest seed " + seed + " (replay with -Ddyndit.fuzz.seed=" + seed + ")");
        assertTimeoutPreemptively(Duration.ofSeconds(120L * SCALE), () -> run(seed), "fuzzing hung; seed " + seed);
        System.out.println("CheckpointFuzzTest outcomes (seed " + seed + "):" + summary);
    }

    private void run(long seed) throws IOException {
        Random random = new Random(seed);
        byte[] weights = GoldenFiles.bytes(GoldenFiles.DIT, "weights.safetensors");
        byte[] io = GoldenFiles.bytes(GoldenFiles.DIT, "io.safetensors");
        byte[] ditPt = GoldenFiles.bytes(GoldenFiles.DIT, "weights.pt");
        byte[] dyditPt = GoldenFiles.bytes(GoldenFiles.DYDIT, "weights.pt");
        Function<byte[], TensorFile> readSafetensors = bytes -> SafetensorsReader.read(ByteBuffer.wrap(bytes), "fuzz");
        Function<byte[], TensorFile> readTorch = bytes -> TorchCheckpointReader.read(ByteBuffer.wrap(bytes), "fuzz");

        // Safetensors: mostly inside the length field and JSON header.
        campaign("safetensors", seed, SAFETENSORS_CASES, readSafetensors, () -> {
            byte[] original = random.nextBoolean() ? weights : io;
            return RandomMutation.of(original, 0, 8 + headerLength(original), random);
        });
        // Zip structure: the end records and central directory (the tail), or the first local header and pickle.
        campaign("zip", seed, ZIP_CASES, readTorch, () -> {
            byte[] original = random.nextBoolean() ? ditPt : dyditPt;
            return random.nextBoolean()
                    ? RandomMutation.of(original, Math.max(0, original.length - 4096), original.length, random)
                    : RandomMutation.of(original, 0, 3072, random);
        });
        // data.pkl itself, re-zipped so its CRC matches and the unpickler, not the CRC check, meets the damage.
        List<Map<String, byte[]>> archives = List.of(entries(GoldenFiles.DIT), entries(GoldenFiles.DYDIT));
        campaign("pickle", seed, PICKLE_CASES, readTorch, () -> {
            Map<String, byte[]> entries = archives.get(random.nextInt(archives.size()));
            String pickleName = entries.keySet().iterator().next();
            byte[] pickle = entries.get(pickleName);
            RandomMutation mutated = RandomMutation.of(pickle, 0, pickle.length, random);
            TestZipWriter zip = new TestZipWriter();
            entries.forEach((name, bytes) -> zip.add(name, name.equals(pickleName) ? mutated.bytes() : bytes));
            return new RandomMutation(zip.toBytes(), "data.pkl: " + mutated.description());
        });
        // A few through real files, covering the memory-mapped path and format detection.
        int[] fileIndex = {0};
        campaign("files", seed, FILE_CASES, bytes -> {
            Path path = dir.resolve("mutant-" + fileIndex[0]++);
            try {
                Files.write(path, bytes);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
            return TensorFiles.open(path);
        }, () -> {
            byte[] original = random.nextBoolean() ? ditPt : weights;
            return RandomMutation.of(original, 0, original == ditPt ? original.length : 2048, random);
        });
        // JSON: golden case files and a safetensors header, through the same strict UTF-8 decoding as config files.
        List<byte[]> documents = List.of(GoldenFiles.bytes(GoldenFiles.DIT, "case.json"),
                GoldenFiles.bytes(GoldenFiles.DYDIT, "case.json"),
                java.util.Arrays.copyOfRange(io, 8, 8 + headerLength(io)));
        campaign("json", seed, JSON_CASES, bytes -> {
            JsonParser.parse(JsonParser.decodeUtf8(bytes, "fuzz"));
            return null;
        }, () -> {
            byte[] original = documents.get(random.nextInt(documents.size()));
            return RandomMutation.of(original, 0, original.length, random);
        });
        checkSpread(seed);
    }

    /** Campaign name, outcome counts and the distinct refusal messages (digits folded, so offsets do not count). */
    private record Outcome(String campaign, int opened, int refused, int pastFirstCheck, Map<String, Integer> messages) {
    }

    private final List<Outcome> outcomes = new java.util.ArrayList<>();

    /**
     * The mutants must exercise the readers, not just their first gate: at least half get past the format's first
     * check (the file-size/length/magic test), and refusals come with many different messages.
     */
    private void checkSpread(long seed) {
        Map<String, Integer> minimumDistinct = Map.of("safetensors", 12, "zip", 12, "pickle", 15, "files", 4,
                "json", 10);
        for (Outcome o : outcomes) {
            int cases = o.opened + o.refused;
            String detail = "seed " + seed + ", campaign " + o.campaign + ": " + o.pastFirstCheck + " of " + cases + " past the first check, "
                    + o.messages.size() + " distinct messages " + o.messages.keySet();
            if (o.pastFirstCheck * 2 < cases) {
                fail("fuzz mutants do not reach the parser: " + detail);
            }
            if (o.messages.size() < minimumDistinct.get(o.campaign)) {
                fail("fuzz refusals are not varied enough: " + detail);
            }
        }
    }

    /** Messages of the very first checks each reader makes, before it looks at any structure. */
    private static boolean firstCheck(String message) {
        return message.contains("too short") || message.contains("is absurd") || message.contains("runs past the end "
                + "of the file") || message.contains("no zip end-of-central-directory") || message.contains("neither a "
                + "safetensors file") || message.contains("invalid JSON at character 0:");
    }

    /** Runs {@code cases} mutants through {@code reader}; any non-Dyndit throwable fails with a replayable report. */
    private void campaign(String name, long seed, int cases, Function<byte[], TensorFile> reader,
            java.util.function.Supplier<RandomMutation> mutants) {
        int opened = 0;
        int refused = 0;
        int pastFirstCheck = 0;
        Map<String, Integer> messages = new java.util.TreeMap<>();
        for (int i = 0; i < cases; i++) {
            RandomMutation mutant = mutants.get();
            try (TensorFile file = reader.apply(mutant.bytes())) {
                readEverything(file);
                opened++;
                pastFirstCheck++;
            } catch (DynditException expected) {
                refused++;
                String message = String.valueOf(expected.getMessage());
                if (!firstCheck(message)) {
                    pastFirstCheck++;
                }
                messages.merge(message.replaceAll("[0-9]+", "#").replaceAll("'[^']*'", "'…'"), 1, Integer::sum);
            } catch (Throwable unexpected) {
                fail(report(name, seed, i, mutant.description(), unexpected), unexpected);
            }
        }
        outcomes.add(new Outcome(name, opened, refused, pastFirstCheck, messages));
        summary.append(String.format("%n  %-11s %6d read fine, %6d refused with a DynditException (%d past the first "
                + "check, %d distinct messages)", name, opened, refused, pastFirstCheck, messages.size()));
    }

    private static void readEverything(TensorFile file) {
        if (file == null) {
            return; // the JSON campaign has nothing more to read
        }
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

    private static int headerLength(byte[] safetensors) {
        return (int) ByteBuffer.wrap(safetensors).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
    }

    /** The golden checkpoint's entries in archive order (data.pkl first), read with the JDK's own zip reader. */
    private static Map<String, byte[]> entries(String caseName) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(GoldenFiles.path(caseName, "weights.pt").toFile())) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
        if (!entries.keySet().iterator().next().endsWith("data.pkl")) {
            throw new IllegalStateException("expected data.pkl first in " + caseName);
        }
        return entries;
    }
}
