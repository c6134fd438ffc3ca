package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfEnvironmentVariable;

/**
 * The full-size SD-VAE decoder (random weights, block_out_channels 128,256,512,512, G=32, L=2) on one 256x256
 * image: decode time and peak resident memory. Takes tens of seconds on two cores, so it only runs with
 * DYNDIT_SLOW_TESTS=1 (the same numbers come from {@code java -cp target/dyndit-all.jar io.dyndit.vae.VaeBenchmark}).
 */
@EnabledIfEnvironmentVariable(named = "DYNDIT_SLOW_TESTS", matches = "1")
class VaeFullSizeMemoryTest {
    @Test
    void oneFullSizeImageFitsComfortably() {
        VaeBenchmark.Result r = VaeBenchmark.run(VaeConfig.stableDiffusion(), 256, 1, 0, System.out);
        assertTrue(r.parameters() > 49_000_000 && r.parameters() < 50_000_000, "parameters " + r.parameters());
        // weights 198 MB + three 64 MiB activation buffers + JVM: well under 2 GiB
        assertTrue(r.peakRssBytes() < 2L << 30, "peak RSS " + r.peakRssBytes());
    }
}
