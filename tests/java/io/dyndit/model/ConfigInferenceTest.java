package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.DType;
import io.dyndit.io.MapTensorFile;
import io.dyndit.io.StoredTensor;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/**
 * The README's main real-checkpoint path: DiT-XL-2-256x256.pt has no config, so it is inferred from the tensor shapes.
 * A state dict with exactly the official key set and shapes (shared/docs/dit-dydit-reference.md section 4: 292 keys
 * for XL/2) must give the XL/2 preset; the tensors share one zero buffer, so no 2.7 GB are allocated.
 */
class ConfigInferenceTest {
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(6 * 1152 * 1152 * 4); // the largest tensor (adaLN)

    private static void put(MapTensorFile f, String name, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        f.put(StoredTensor.of(name, DType.F32, shape, ZEROS.duplicate().limit((int) (4 * n))));
    }

    /** The official state dict's shapes for depth L, width D, heads, patch p at latent side I (learned sigma). */
    static MapTensorFile officialShapes(int l, int d, int p, int side, int classes) {
        MapTensorFile f = new MapTensorFile("DiT state dict (shapes only)");
        long t = (long) (side / p) * (side / p), m = 4L * d;
        put(f, "pos_embed", 1, t, d);
        put(f, "x_embedder.proj.weight", d, 4, p, p);
        put(f, "x_embedder.proj.bias", d);
        put(f, "t_embedder.mlp.0.weight", d, 256);
        put(f, "t_embedder.mlp.0.bias", d);
        put(f, "t_embedder.mlp.2.weight", d, d);
        put(f, "t_embedder.mlp.2.bias", d);
        put(f, "y_embedder.embedding_table.weight", classes + 1, d);
        for (int i = 0; i < l; i++) {
            String b = "blocks." + i + ".";
            put(f, b + "attn.qkv.weight", 3L * d, d);
            put(f, b + "attn.qkv.bias", 3L * d);
            put(f, b + "attn.proj.weight", d, d);
            put(f, b + "attn.proj.bias", d);
            put(f, b + "mlp.fc1.weight", m, d);
            put(f, b + "mlp.fc1.bias", m);
            put(f, b + "mlp.fc2.weight", d, m);
            put(f, b + "mlp.fc2.bias", d);
            put(f, b + "adaLN_modulation.1.weight", 6L * d, d);
            put(f, b + "adaLN_modulation.1.bias", 6L * d);
        }
        put(f, "final_layer.linear.weight", (long) p * p * 8, d);
        put(f, "final_layer.linear.bias", (long) p * p * 8);
        put(f, "final_layer.adaLN_modulation.1.weight", 2L * d, d);
        put(f, "final_layer.adaLN_modulation.1.bias", 2L * d);
        return f;
    }

    @Test
    void anOfficialXl2StateDictInfersTheXl2Preset() {
        MapTensorFile f = officialShapes(28, 1152, 2, 32, 1000);
        assertEquals(292, f.names().size(), "the reference's key count for DiT-XL/2");
        DiTConfig c = DiTConfig.infer(f);
        assertEquals(DiTConfig.preset("DiT-XL/2", 32), c);
        assertEquals(118.6e9, DiTMacs.total(c), 0.05e9, "the paper's 118.6 GMACs");
        CheckpointKeys.requireAllUsed(f, c); // and no key is left over
    }

    @Test
    void otherPresetsAndResolutionsInferToo() {
        assertEquals(DiTConfig.preset("DiT-S/2", 32), DiTConfig.infer(officialShapes(12, 384, 2, 32, 1000)));
        assertEquals(DiTConfig.preset("DiT-B/4", 32), DiTConfig.infer(officialShapes(12, 768, 4, 32, 1000)));
        assertEquals(DiTConfig.preset("DiT-XL/2", 64), DiTConfig.infer(officialShapes(28, 1152, 2, 64, 1000)),
                "512x512 checkpoints: 1024 tokens");
    }
}
