package io.dyndit.spark;

import io.dyndit.io.AtomicOutput;
import io.dyndit.io.JsonParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code manifest.json} of an out-dir: the run's identity ({@link GenerationSettings#identity()}) and the completed
 * shards with their SHA-256. Rewritten whole and atomically after every completed shard, so a crash at any moment
 * leaves the previous or the next manifest, never a torn one.
 *
 * <p>Thread-safety: not thread-safe; the driver updates it from one thread at a time (synchronized callers).
 */
final class Manifest {
    static final String FILE = "manifest.json";
    static final String FORMAT = "dyndit-generate/1";

    /** A completed shard: global indices [first, first + count) in {@code file}, whose bytes hash to sha256. */
    record Entry(int shard, int first, int count, String file, String sha256) implements java.io.Serializable {}

    private final Map<String, String> identity;
    private final TreeMap<Integer, Entry> done = new TreeMap<>();

    Manifest(Map<String, String> identity) {
        this.identity = new LinkedHashMap<>(identity);
    }

    /** The manifest in {@code dir}, or null if there is none; throws GenerateFailure when it cannot be read. */
    static Manifest read(Path dir) {
        Path file = dir.resolve(FILE);
        if (!Files.exists(file)) {
            return null;
        }
        try {
            Map<String, Object> json = JsonParser.parseObjectFile(file);
            if (!FORMAT.equals(json.get("format"))) {
                throw new GenerateFailure(file + " is not a dyndit generate manifest (format " + json.get("format")
                        + "); use an empty --out-dir");
            }
            Map<String, String> identity = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : ((Map<?, ?>) json.get("settings")).entrySet()) {
                identity.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
            }
            Manifest m = new Manifest(identity);
            for (Object o : (List<?>) json.get("shards")) {
                Map<?, ?> s = (Map<?, ?>) o;
                m.add(new Entry(((Number) s.get("shard")).intValue(), ((Number) s.get("first")).intValue(),
                        ((Number) s.get("count")).intValue(), (String) s.get("file"), (String) s.get("sha256")));
            }
            return m;
        } catch (GenerateFailure e) {
            throw e;
        } catch (RuntimeException e) { // unparsable JSON, missing or mistyped members
            throw new GenerateFailure(file + " is not a readable manifest (" + Words.of(e)
                    + "); move it away or use an empty --out-dir", e);
        }
    }

    /**
     * Null when {@code other} is this manifest's run; else which settings differ, in words ("seed 3 here, 4 in the
     * command").
     */
    String mismatch(Map<String, String> other) {
        List<String> diffs = new ArrayList<>();
        for (String key : union(identity, other)) {
            String mine = identity.get(key), theirs = other.get(key);
            if (mine == null || !mine.equals(theirs)) {
                diffs.add(key + " " + (mine == null ? "(absent)" : mine) + " in the manifest, "
                        + (theirs == null ? "(absent)" : theirs) + " in this command");
            }
        }
        return diffs.isEmpty() ? null : String.join("; ", diffs);
    }

    private static List<String> union(Map<String, String> a, Map<String, String> b) {
        List<String> keys = new ArrayList<>(a.keySet());
        for (String k : b.keySet()) {
            if (!keys.contains(k)) {
                keys.add(k);
            }
        }
        return keys;
    }

    void add(Entry e) {
        done.put(e.shard(), e);
    }

    void remove(int shard) {
        done.remove(shard);
    }

    Entry get(int shard) {
        return done.get(shard);
    }

    List<Entry> entries() {
        return new ArrayList<>(done.values());
    }

    void write(Path dir) {
        StringBuilder j = new StringBuilder("{\n  \"format\": ").append(quote(FORMAT)).append(",\n  \"settings\": {");
        int i = 0;
        for (Map.Entry<String, String> e : identity.entrySet()) {
            j.append(i++ == 0 ? "\n" : ",\n").append("    ").append(quote(e.getKey())).append(": ")
                    .append(quote(e.getValue()));
        }
        j.append("\n  },\n  \"shards\": [");
        i = 0;
        for (Entry e : done.values()) {
            j.append(i++ == 0 ? "\n" : ",\n").append("    {\"shard\": ").append(e.shard()).append(", \"first\": ")
                    .append(e.first()).append(", \"count\": ").append(e.count()).append(", \"file\": ")
                    .append(quote(e.file())).append(", \"sha256\": ").append(quote(e.sha256())).append('}');
        }
        j.append("\n  ]\n}\n");
        byte[] bytes = j.toString().getBytes(StandardCharsets.UTF_8);
        AtomicOutput.write(dir.resolve(FILE), tmp -> {
            try {
                Files.write(tmp, bytes);
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    /** A JSON string literal (the values are paths, hex digests and numbers: escapes only what JSON requires). */
    private static String quote(String s) {
        StringBuilder q = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> q.append("\\\"");
                case '\\' -> q.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        q.append(String.format("\\u%04x", (int) c));
                    } else {
                        q.append(c);
                    }
                }
            }
        }
        return q.append('"').toString();
    }
}
