package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.DynditException;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.io.TensorNotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad checkpoints, configs and inputs give typed exceptions naming the problem; the JVM lives on. */
class DiTBadInputTest {
    private static final String CASE = "dit_p2_d64_h4";

    @TempDir
    Path tmp;

    private static Path golden(String file) {
        return Golden.dir(CASE).resolve(file);
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message '" + e.getMessage() + "' lacks '" + p + "'");
        }
    }

    /** The golden weights rewritten with {@code name} dropped or replaced by {@code replacement}. */
    private Path rewrite(String name, StoredTensor replacement) throws Exception {
        SafetensorsWriter w = new SafetensorsWriter();
        try (TensorFile f = TensorFiles.open(golden("weights.safetensors"))) {
            for (String n : f.names()) {
                if (!n.equals(name)) {
                    w.add(f.get(n));
                } else if (replacement != null) {
                    w.add(replacement);
                }
            }
        }
        Path out = tmp.resolve("w" + System.nanoTime() + ".safetensors");
        w.write(out);
        return out;
    }

    @Test
    void missingTensorIsNamed() throws Exception {
        Path w = rewrite("blocks.1.mlp.fc2.bias", null);
        TensorNotFoundException e = assertThrows(TensorNotFoundException.class,
                () -> DiTModel.load(w, golden("case.json"), Device.cpu()).close());
        assertMentions(e, "blocks.1.mlp.fc2.bias");
    }

    @Test
    void wrongShapeNamesTensorExpectedAndActual() throws Exception {
        Path w = rewrite("blocks.0.attn.proj.weight",
                StoredTensor.ofFloats("blocks.0.attn.proj.weight", new long[] {64, 63}, new float[64 * 63]));
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> DiTModel.load(w, golden("case.json"), Device.cpu()).close());
        assertMentions(e, "blocks.0.attn.proj.weight", "[64, 63]", "[64, 64]");
    }

    @Test
    void configContradictingWeightsIsRefused() throws Exception {
        Path cfg = tmp.resolve("cfg.json");
        Files.writeString(cfg, Files.readString(golden("case.json")).replace("\"hidden_size\": 64", "\"hidden_size\": 48")
                .replace("\"num_heads\": 4", "\"num_heads\": 3"));
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class,
                () -> DiTModel.load(golden("weights.safetensors"), cfg, Device.cpu()).close());
        assertMentions(e, "pos_embed", "[1, 16, 64]", "[1, 16, 48]");
        Files.writeString(cfg, "{\"input_size\": 8, \"patch_size\": 3}");
        assertThrows(ModelConfigException.class, () -> DiTModel.load(golden("weights.safetensors"), cfg, Device.cpu()));
        Files.writeString(cfg, "{not json");
        assertThrows(ModelConfigException.class, () -> DiTModel.load(golden("weights.safetensors"), cfg, Device.cpu()));
    }

    @Test
    void hiddenSizeOutsidePresetsNeedsAConfig() {
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> DiTModel.load(golden("weights.pt"), null, Device.cpu()));
        assertMentions(e, "num_heads", "config");
    }

    @Test
    void notACheckpointIsRefused() throws Exception {
        Path junk = tmp.resolve("junk.pt");
        Files.write(junk, "this is not a checkpoint at all".getBytes());
        DynditException e = assertThrows(DynditException.class, () -> DiTModel.load(junk, golden("case.json"), Device.cpu()));
        assertMentions(e, "junk.pt");
    }

    @Test
    void badLabelsAndLatentsAreTyped() throws Exception {
        try (DiTModel m = DiTModel.load(golden("weights.safetensors"), golden("case.json"), Device.cpu())) {
            float[] x = new float[2 * 4 * 8 * 8];
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> m.forward(x, new float[] {1, 2}, new long[] {3, 11}));
            assertMentions(e, "y[1] = 11", "[0, 11)");
            ShapeMismatchException s = assertThrows(ShapeMismatchException.class,
                    () -> m.forward(new float[2 * 4 * 8 * 7], new float[] {1, 2}, new long[] {3, 4}));
            assertMentions(s, "[2,4,8,8]");
            assertThrows(InvalidArgumentException.class, () -> m.forwardWithCfg(x, new float[] {1, 2, 3},
                    new long[] {1, 2, 3}, 4.0));
            float[] ok = m.forward(x, new float[] {1, 2}, new long[] {3, 10}); // null class 10 is valid
            assertTrue(ok.length == 2 * 8 * 8 * 8);
        }
    }

    @Test
    void mutatedWeightFilesLoadOrFailTyped() throws Exception {
        long seed = io.dyndit.testing.Seeds.fresh();
        byte[] original = Files.readAllBytes(golden("weights.safetensors"));
        Random r = new Random(seed);
        Path f = tmp.resolve("fuzz.safetensors");
        float[] x = new float[2 * 4 * 8 * 8];
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> {
            for (int i = 0; i < 300; i++) {
                byte[] b = original.clone();
                int flips = 1 + r.nextInt(8);
                int span = r.nextBoolean() ? Math.min(b.length, 4096) : b.length; // header-heavy
                for (int k = 0; k < flips; k++) {
                    b[r.nextInt(span)] = (byte) r.nextInt(256);
                }
                if (r.nextInt(10) == 0) {
                    b = java.util.Arrays.copyOf(b, r.nextInt(b.length));
                }
                Files.write(f, b);
                try (DiTModel m = DiTModel.load(f, golden("case.json"), Device.cpu())) {
                    m.forward(x, new float[] {5, 500}, new long[] {0, 1});
                } catch (DynditException expected) {
                    // typed: fine
                } catch (Throwable t) {
                    throw new AssertionError("mutation " + i + " (seed " + seed + ") escaped as " + t, t);
                }
            }
        });
    }
}
