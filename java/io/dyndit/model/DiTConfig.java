package io.dyndit.model;

import io.dyndit.io.JsonParser;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The DiT constructor arguments (official names in JSON). Comes from a JSON file, or is inferred from a
 * checkpoint's tensor shapes plus the DiT paper's presets (S/B/L/XL with patch 2/4/8).
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record DiTConfig(int inputSize, int patchSize, int inChannels, int hiddenSize, int depth, int numHeads,
        double mlpRatio, double classDropoutProb, int numClasses, boolean learnSigma) {

    /** A DiT paper preset: depth, hidden size, heads. */
    public record Preset(String name, int depth, int hiddenSize, int numHeads) {}

    public static final List<Preset> PRESETS = List.of(new Preset("S", 12, 384, 6), new Preset("B", 12, 768, 12),
            new Preset("L", 24, 1024, 16), new Preset("XL", 28, 1152, 16));

    public DiTConfig {
        require(inputSize > 0, "input_size must be > 0 (got " + inputSize + ")");
        require(patchSize > 0 && inputSize % patchSize == 0,
                "patch_size " + patchSize + " must be > 0 and divide input_size " + inputSize);
        require(inChannels > 0, "in_channels must be > 0 (got " + inChannels + ")");
        require(hiddenSize > 0 && numHeads > 0 && hiddenSize % numHeads == 0,
                "hidden_size " + hiddenSize + " must be a positive multiple of num_heads " + numHeads);
        require(depth > 0, "depth must be > 0 (got " + depth + ")");
        require(mlpRatio > 0, "mlp_ratio must be > 0 (got " + mlpRatio + ")");
        require(numClasses > 0, "num_classes must be > 0 (got " + numClasses + ")");
        require(classDropoutProb >= 0 && classDropoutProb < 1, "class_dropout_prob must be in [0, 1)");
        // Bounds far above any DiT, so that sizes derived from them (tokens, rows, weights) fit the engine's integers
        require(inputSize <= MAX_SIDE, "input_size " + inputSize + " exceeds the supported maximum " + MAX_SIDE);
        require(inChannels <= MAX_WIDTH, "in_channels " + inChannels + " exceeds the supported maximum " + MAX_WIDTH);
        require(hiddenSize <= MAX_WIDTH, "hidden_size " + hiddenSize + " exceeds the supported maximum " + MAX_WIDTH);
        require(depth <= MAX_DEPTH, "depth " + depth + " exceeds the supported maximum " + MAX_DEPTH);
        require(mlpRatio * hiddenSize <= 4.0 * MAX_WIDTH, "mlp_ratio " + mlpRatio + " x hidden_size exceeds the supported "
                + "maximum " + 4 * MAX_WIDTH);
        require(numClasses <= MAX_CLASSES, "num_classes " + numClasses + " exceeds the supported maximum " + MAX_CLASSES);
    }

    /** Largest latent side (tokens at patch 1: 2^20), width, depth and class count a config may have. */
    public static final int MAX_SIDE = 1024, MAX_WIDTH = 16384, MAX_DEPTH = 1024, MAX_CLASSES = 1 << 24;

    /** A preset by name such as "DiT-XL/2" or "XL/2", at latent size {@code inputSize} (32 for 256px). */
    public static DiTConfig preset(String name, int inputSize) {
        String n = name.startsWith("DiT-") ? name.substring(4) : name;
        String[] parts = n.split("/");
        if (parts.length == 2) {
            for (Preset p : PRESETS) {
                if (p.name().equalsIgnoreCase(parts[0]) && parts[1].matches("[248]")) {
                    return new DiTConfig(inputSize, Integer.parseInt(parts[1]), 4, p.hiddenSize(), p.depth(), p.numHeads(),
                            4.0, 0.1, 1000, true);
                }
            }
        }
        throw new ModelConfigException("unknown model '" + name + "' (expected DiT-S|B|L|XL/2|4|8)");
    }

    public int gridSize() {
        return inputSize / patchSize;
    }

    public int tokens() {
        return gridSize() * gridSize();
    }

    public int headDim() {
        return hiddenSize / numHeads;
    }

    public int mlpHidden() {
        return (int) (hiddenSize * mlpRatio);
    }

    public int outChannels() {
        return learnSigma ? 2 * inChannels : inChannels;
    }

    /** Rows of the label table: a null (CFG) class row exists only with class dropout. */
    public int labelTableRows() {
        return numClasses + (classDropoutProb > 0 ? 1 : 0);
    }

    public boolean hasNullClass() {
        return classDropoutProb > 0;
    }

    /** Reads the DiT constructor keys from a JSON object; other keys are ignored. */
    public static DiTConfig fromJson(Path file) {
        Map<String, Object> m;
        try {
            m = JsonParser.parseObjectFile(file); // strict UTF-8, names the file
        } catch (io.dyndit.core.DynditException e) {
            throw new ModelConfigException("config " + e.getMessage());
        }
        return fromMap(m, file.toString());
    }

    static DiTConfig fromMap(Map<String, Object> m, String source) {
        try {
            return new DiTConfig(intKey(m, "input_size", source), intKey(m, "patch_size", source),
                    intKey(m, "in_channels", source), intKey(m, "hidden_size", source), intKey(m, "depth", source),
                    intKey(m, "num_heads", source), numKey(m, "mlp_ratio", 4.0, source),
                    numKey(m, "class_dropout_prob", 0.1, source), intKey(m, "num_classes", source),
                    boolKey(m, "learn_sigma", true, source));
        } catch (ModelConfigException e) {
            throw e.getMessage().startsWith("config ") ? e : new ModelConfigException("config " + source + ": " + e.getMessage());
        }
    }

    /**
     * Infers the configuration from official tensor shapes; num_heads (not visible in shapes) and the class
     * dropout convention come from the presets, so a hidden size outside them needs a JSON config.
     */
    public static DiTConfig infer(TensorFile w) {
        long[] pe = shape(w, "x_embedder.proj.weight", 4);
        int hidden = (int) pe[0], channels = (int) pe[1], patch = (int) pe[2];
        long[] pos = shape(w, "pos_embed", 3);
        long grid = Math.round(Math.sqrt(pos[1]));
        if (grid * grid != pos[1]) {
            throw new ModelConfigException("pos_embed has " + pos[1] + " tokens, not a square grid (" + w.source() + ")");
        }
        int depth = 0;
        while (w.contains("blocks." + depth + ".attn.qkv.weight")) {
            depth++;
        }
        int mlp = (int) shape(w, "blocks.0.mlp.fc1.weight", 2)[0];
        long outRows = shape(w, "final_layer.linear.weight", 2)[0];
        int co = (int) (outRows / ((long) patch * patch));
        int tableRows = (int) shape(w, "y_embedder.embedding_table.weight", 2)[0];
        Preset preset = null;
        for (Preset p : PRESETS) {
            if (p.hiddenSize() == hidden && p.depth() == depth) {
                preset = p;
            }
        }
        if (preset == null) {
            throw new ModelConfigException("cannot infer num_heads: hidden_size " + hidden + " with depth " + depth
                    + " matches no DiT preset (S/B/L/XL) in " + w.source() + "; pass a config JSON");
        }
        if (co != channels && co != 2 * channels) {
            throw new ModelConfigException("final_layer.linear.weight has " + outRows + " rows: not p*p*C or p*p*2C for p="
                    + patch + ", C=" + channels + " (" + w.source() + ")");
        }
        return new DiTConfig((int) grid * patch, patch, channels, hidden, depth, preset.numHeads(), (double) mlp / hidden,
                0.1, tableRows - 1, co == 2 * channels);
    }

    private static long[] shape(TensorFile w, String name, int rank) {
        StoredTensor t = w.get(name);
        if (t.rank() != rank) {
            throw new ModelConfigException("tensor '" + name + "' has rank " + t.rank() + ", expected " + rank + " ("
                    + w.source() + ")");
        }
        return t.shape();
    }

    private static int intKey(Map<String, Object> m, String key, String source) {
        Object v = m.get(key);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            if (Math.abs(n.doubleValue()) < 1e9) {
                return n.intValue();
            }
            throw new ModelConfigException("config " + source + ": key '" + key + "' = " + v
                    + " is out of range [-999999999, 999999999]");
        }
        throw new ModelConfigException("config " + source + ": key '" + key + "' must be an integer, got "
                + (v == null ? "nothing" : v));
    }

    private static double numKey(Map<String, Object> m, String key, double dflt, String source) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw new ModelConfigException("config " + source + ": key '" + key + "' must be a number, got " + v);
    }

    private static boolean boolKey(Map<String, Object> m, String key, boolean dflt, String source) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        throw new ModelConfigException("config " + source + ": key '" + key + "' must be true or false, got " + v);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ModelConfigException(message);
        }
    }
}
