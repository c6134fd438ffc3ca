package io.dyndit.vae;

import io.dyndit.testing.Bf16;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.io.TensorFile;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoder in bf16 on the CPU (oneDNN bf16 3x3 convolutions and attention linears, fp32 accumulation, fp32
 * GroupNorm, softmax and 1x1 convolutions) against the official diffusers outputs: the image within the bf16 bound,
 * and different from the fp32 decode (the setting took effect).
 */
class VaeCpuBf16Test {

    private static float[] decode(String name, Precision p) {
        try (TensorFile io = VaeGolden.io(name); TensorFile w = VaeGolden.weights(name);
                VaeDecoder vae = VaeDecoder.load(w, VaeGolden.config(name), Device.cpu()).precision(p)) {
            return vae.decode(io.get("decoder_in").toFloatArray(), io.get("decoder_in").shape()).image();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dyndit.vae.VaeGoldenTest#cases")
    void bf16ImageStaysWithinItsBound(String name) {
        assumeTrue(Bf16.cpuRuns(), "no bf16 arithmetic on this CPU");
        float[] ref;
        try (TensorFile io = VaeGolden.io(name)) {
            ref = io.get("image").toFloatArray();
        }
        float[] fp32 = decode(name, Precision.FP32), bf16 = decode(name, Precision.BF16);
        assertArrayEquals(fp32, decode(name, Precision.TF32), "tf32 is fp32 on the CPU");
        double e = Bf16.relError(ref, bf16);
        System.out.printf("%s decoded on the CPU in bf16: image max |err|/max(1,|ref|) = %.2g (fp32 %.2g)%n", name, e,
                Bf16.relError(ref, fp32));
        assertTrue(e <= Bf16.BOUND, name + " bf16 image error " + e);
        assertFalse(Arrays.equals(fp32, bf16), "bf16 decode gave bit-identical fp32 results");
    }
}
