package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Tensor;
import org.junit.jupiter.api.Test;

/** A config that does not describe the checkpoint is refused before anything is allocated, naming the tensors. */
class CheckpointKeysTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    @Test
    void aConfigWithFewerBlocksThanTheCheckpointIsRefused() {
        DiTConfig deeper = new DiTConfig(CFG.inputSize(), CFG.patchSize(), CFG.inChannels(), CFG.hiddenSize(),
                CFG.depth() + 1, CFG.numHeads(), CFG.mlpRatio(), CFG.classDropoutProb(), CFG.numClasses(), CFG.learnSigma());
        long base = Tensor.liveNativeBytes();
        ModelConfigException e = assertThrows(ModelConfigException.class,
                () -> DiTModel.load(new RandomDiT(deeper, 3), CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("blocks." + CFG.depth() + ".") && e.getMessage().contains("depth " + CFG.depth()),
                e.getMessage());
        assertEquals(base, Tensor.liveNativeBytes(), "nothing allocated");
    }

    @Test
    void aStrayTensorIsNamed() {
        RandomDiT f = new RandomDiT(CFG, 3).put("ema_decay", new float[] {0.9999f}, 1);
        ModelConfigException e = assertThrows(ModelConfigException.class, () -> DiTModel.load(f, CFG, Device.cpu()));
        assertTrue(e.getMessage().contains("ema_decay"), e.getMessage());
    }

    @Test
    void everyKnownFamilyLoads() {
        try (DiTModel a = DiTModel.load(RandomDyDiT.create(CFG, true, 2, 2, 0, 1), CFG, Device.cpu());
                DiTModel b = DiTModel.load(ConcurrencyTest.diffcr(2), CFG, Device.cpu())) {
            assertTrue(a.isDynamic() && b.isDynamic());
        }
    }

    @Test
    void absurdSizesAreRefusedByTheConfig() {
        assertThrows(ModelConfigException.class, () -> new DiTConfig(2147483646, 2, 4, 384, 12, 6, 4, 0.1, 1000, true));
        assertThrows(ModelConfigException.class, () -> new DiTConfig(32, 2, 4, 384, 999999999, 6, 4, 0.1, 1000, true));
    }
}
