package io.dyndit.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.DynditException;
import io.dyndit.core.NativeOutOfMemoryException;
import io.dyndit.core.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Every constructor that allocates native memory frees it when it fails half-way: measured exactly by the native
 * bytes of live tensors (Tensor.liveNativeBytes) before and after hundreds of failing loads.
 */
class ResourceCleanupTest {
    private static final DiTConfig CFG = DyDiTEngineTest.CFG;

    private static void failsWithoutLeaking(int cycles, java.util.function.Supplier<RandomDiT> broken) {
        long base = Tensor.liveNativeBytes();
        for (int i = 0; i < cycles; i++) {
            RandomDiT f = broken.get();
            assertThrows(DynditException.class, () -> DiTModel.load(f, CFG, Device.cpu()).close());
            assertEquals(base, Tensor.liveNativeBytes(), "native bytes left after failed load " + i);
        }
    }

    @Test
    void aLoadFailingOnTheLastDiTTensorFreesWhatItCopied() {
        long seed = io.dyndit.testing.Seeds.fresh();
        failsWithoutLeaking(300, () -> new RandomDiT(CFG, seed).remove("final_layer.linear.bias"));
    }

    @Test
    void aLoadFailingInTheDyDiTRoutersFreesTheWeightsAndRouters() {
        long seed = io.dyndit.testing.Seeds.fresh();
        String last = "blocks." + (CFG.depth() - 1) + ".token_selection.mlp_head.2.bias";
        failsWithoutLeaking(200, () -> RandomDyDiT.create(CFG, true, 2, 2, 0, seed).remove(last));
    }

    @Test
    void aLoadFailingInTheDiffCRRoutersFreesEverything() {
        long seed = io.dyndit.testing.Seeds.fresh();
        String last = "blocks." + (CFG.depth() - 1) + ".diffcr_router.weight";
        failsWithoutLeaking(200, () -> ConcurrencyTest.diffcr(seed).remove(last));
    }

    /**
     * The workspace's memory plan equals what it allocates, so the up-front check speaks of the real need (with the
     * bf16 activation buffers on every device).
     */
    @Test
    void workspaceEstimateEqualsItsAllocation() {
        for (Device dev : new Device[] {Device.cpu(), Device.cudaEmulated()}) {
            try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 1), CFG, dev)) {
                PatchGeometry g = m.geometry(CFG.patchSize());
                for (int n : new int[] {1, 3, 8}) {
                    long before = Tensor.liveNativeBytes();
                    try (ForwardWorkspace ws = new ForwardWorkspace(CFG, g, dev, n)) {
                        assertEquals(ForwardWorkspace.bytes(CFG, g, n), Tensor.liveNativeBytes() - before,
                                dev + " batch " + n);
                        assertEquals(DType.BF16, ws.bf16.qkv.dtype(), dev + ": bf16 qkv buffer");
                    }
                }
            }
        }
    }

    /** A batch beyond the machine's memory is refused before anything is allocated, saying how much it needs. */
    @Test
    void anOversizedBatchIsRefusedUpFront() {
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 1), CFG, Device.cpu())) {
            long base = Tensor.liveNativeBytes();
            PatchGeometry g = m.geometry(CFG.patchSize());
            NativeOutOfMemoryException e = assertThrows(NativeOutOfMemoryException.class,
                    () -> new ForwardWorkspace(CFG, g, Device.cpu(), 200_000_000));
            assertTrue(e.getMessage().contains("batch 200000000") && e.getMessage().contains("GiB"), e.getMessage());
            assertEquals(base, Tensor.liveNativeBytes());
        }
    }

    /** On a device (no up-front check) a workspace whose late buffer cannot be allocated frees the earlier ones. */
    @Test
    void aWorkspaceFailingHalfWayOnTheDeviceFreesItsEarlierBuffers() {
        try (DiTModel m = DiTModel.load(new RandomDiT(CFG, 1), CFG, Device.cudaEmulated())) {
            PatchGeometry g = m.geometry(CFG.patchSize());
            long base = Tensor.liveNativeBytes();
            // x is 4 GiB of untouched pages; fc1 would be 48 GiB, beyond what the system will map
            assertThrows(DynditException.class, () -> new ForwardWorkspace(CFG, g, Device.cudaEmulated(), 4_000_000));
            assertEquals(base, Tensor.liveNativeBytes());
        }
    }
}
