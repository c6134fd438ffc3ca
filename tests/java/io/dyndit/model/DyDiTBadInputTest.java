package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.TensorNotFoundException;
import org.junit.jupiter.api.Test;

class DyDiTBadInputTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    @Test
    void missingRouterOfOneBlockIsNamed() {
        RandomDiT f = RandomDyDiT.create(CFG, true, 2, 2, 0, 1).remove("blocks.1.mlp_rate.router.bias");
        TensorNotFoundException e = assertThrows(TensorNotFoundException.class, () -> DiTModel.load(f, CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("blocks.1.mlp_rate.router.bias"), e.getMessage());
        RandomDiT onlyTokens = RandomDyDiT.create(CFG, true, 2, 2, 0, 1).remove("blocks.0.attn_rate.router.weight");
        assertThrows(TensorNotFoundException.class, () -> DiTModel.load(onlyTokens, CFG, Device.cpu()));
    }

    @Test
    void inconsistentRouterShapesAreNamed() {
        RandomDiT f = RandomDyDiT.create(CFG, true, 2, 2, 0, 1)
                .put("blocks.0.attn_rate.router.weight", new float[5 * 48], 5, 48);
        ShapeMismatchException e = assertThrows(ShapeMismatchException.class, () -> DiTModel.load(f, CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("blocks.0.attn_rate.router.weight") && e.getMessage().contains("[5, 48]"),
                e.getMessage());
        // v2 attention router but a v1-sized MLP router in block 1
        RandomDiT g = RandomDyDiT.create(CFG, true, 2, 2, 0, 1)
                .put("blocks.1.mlp_rate.router.weight", new float[3 * 48], 3, 48);
        e = assertThrows(ShapeMismatchException.class, () -> DiTModel.load(g, CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("blocks.1.mlp_rate.router.weight"), e.getMessage());
        RandomDiT h = RandomDyDiT.create(CFG, false, 2, 2, 0, 1)
                .put("blocks.0.token_selection.mlp_head.0.weight", new float[4 * 48], 4, 48);
        e = assertThrows(ShapeMismatchException.class, () -> DiTModel.load(h, CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("token_selection.mlp_head.0.weight"), e.getMessage());
    }

    @Test
    void staticOnAPlainDiTIsJustTheDiT() {
        RandomDiT f = new RandomDiT(CFG, 3);
        float[] x = new float[4 * 8 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.sin(i);
        try (DiTModel a = DiTModel.load(f, CFG, ModelOptions.builder().staticModel(true).build()); DiTModel b = DiTModel.load(f, CFG, Device.cpu())) {
            assertFalse(a.isDynamic() || b.isDynamic());
            org.junit.jupiter.api.Assertions.assertArrayEquals(b.forward(x, new float[] {9}, new long[] {1}),
                    a.forward(x, new float[] {9}, new long[] {1}));
        }
    }
}
