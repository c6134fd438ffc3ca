package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Tensor;
import org.junit.jupiter.api.Test;

/**
 * The full-size SD-VAE decoder structure (random weights, block_out_channels 128,256,512,512, G=32, L=2): its native
 * memory is exactly its weights plus one tile plan within the workspace budget, measured by the live native bytes
 * (not the process's RSS, which other tests in the same JVM share). Sized for CI: one 128x128 image (~2 s).
 */
class VaeFullSizeMemoryTest {
    @Test
    void weightsAndOneTilePlanAreAllTheNativeMemory() {
        VaeConfig c = VaeConfig.stableDiffusion();
        RandomVae random = new RandomVae(c, io.dyndit.testing.Seeds.fresh());
        long params = random.parameterCount();
        assertTrue(params > 49_000_000 && params < 50_000_000, "parameters " + params);
        long before = Tensor.liveNativeBytes();
        try (VaeDecoder vae = VaeDecoder.load(random, c, Device.cpu())) {
            long weights = Tensor.liveNativeBytes() - before;
            assertEquals(4 * params, weights, "weights are float32, nothing else kept after the load");
            int side = 16; // a 16x16 latent: a 128x128 image
            float[] z = new float[c.latentChannels() * side * side];
            for (int i = 0; i < z.length; i++) {
                z[i] = (float) Math.sin(0.37 * i);
            }
            DecodedImages img = vae.decodeLatents(z, new long[] {1, c.latentChannels(), side, side});
            assertEquals(128, img.height());
            for (float v : img.image()) {
                assertTrue(Float.isFinite(v), "finite image");
            }
            long plan = Tensor.liveNativeBytes() - before - weights;
            assertTrue(plan > 0 && plan <= VaeDecoder.DEFAULT_TILE_BYTES, "tile plan " + plan + " bytes");
        }
        assertEquals(before, Tensor.liveNativeBytes(), "close frees weights and plans");
    }
}
