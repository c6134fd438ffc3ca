package io.dyndit.vae;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.io.TensorFile;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decoder against the official diffusers AutoencoderKL (random weights, every intermediate stored):
 * image and intermediates within 1e-4 * max(1, |ref|), uint8 off by at most 1 on at most 0.2% of values.
 */
class VaeGoldenTest {
    static List<String> cases() {
        return VaeGolden.CASES;
    }

    private static List<String> stageNames(VaeConfig c) {
        List<String> names = new ArrayList<>(List.of("post_quant_conv_out", "conv_in_out", "mid_resnet0_out",
                "mid_attn_out", "mid_block_out"));
        for (int i = 0; i < c.levels(); i++) {
            names.add("up_block_" + i + "_out");
        }
        names.add("norm_out_act_out");
        return names;
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> casesOnDevices() {
        return cases().stream().flatMap(n -> java.util.stream.Stream.of("cpu", "cuda-emu")
                .map(d -> org.junit.jupiter.params.provider.Arguments.of(n, d)));
    }

    /** On the CPU and on the CUDA kernels under the SIMT emulator (FP32 convolutions there, so one tolerance). */
    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("casesOnDevices")
    void decoderInMatchesImageAndEveryIntermediate(String name, String device) {
        VaeConfig c = VaeGolden.config(name);
        try (TensorFile io = VaeGolden.io(name); TensorFile w = VaeGolden.weights(name);
                VaeDecoder vae = VaeDecoder.load(w, c, Device.parse(device)).precision(Precision.FP32)) {
            long[] shape = io.get("decoder_in").shape();
            VaeGolden.Capture capture = new VaeGolden.Capture((int) shape[0]);
            DecodedImages out = vae.decode(io.get("decoder_in").toFloatArray(), shape, capture);
            assertArrayEquals(io.get("image").shape(), out.shape());
            StringBuilder report = new StringBuilder(name + " on " + device + ": max |err|/max(1,|ref|):");
            for (String stage : stageNames(c)) {
                float[] ref = io.get(stage).toFloatArray();
                report.append(String.format(" %s %.2g", stage, VaeGolden.assertClose(ref, capture.stages.get(stage), stage)));
            }
            double img = VaeGolden.assertClose(io.get("image").toFloatArray(), out.image(), "image");
            assertArrayEquals(out.image(), capture.stages.get("image"));
            report.append(String.format(" image %.2g", img));

            long[] refU8 = io.get("uint8").toLongArray();
            byte[] got = out.uint8Nhwc();
            assertEquals(refU8.length, got.length);
            int off = 0;
            for (int i = 0; i < got.length; i++) {
                long d = Math.abs((got[i] & 0xFF) - refU8[i]);
                assertTrue(d <= 1, "uint8[" + i + "] differs by " + d);
                off += d == 0 ? 0 : 1;
            }
            assertTrue(off <= 0.002 * got.length, off + " of " + got.length + " uint8 values differ");
            System.out.println(report.append(", uint8 off by one: ").append(off).append(" of ").append(got.length));
        }
    }

    /** z / scaling_factor computed here equals the stored decoder_in, and decodeLatents(z) gives the image. */
    @ParameterizedTest
    @MethodSource("cases")
    void rawLatentsAreScaledByTheCaller(String name) {
        VaeConfig c = VaeGolden.config(name);
        try (TensorFile io = VaeGolden.io(name); TensorFile w = VaeGolden.weights(name);
                VaeDecoder vae = VaeDecoder.load(w, c, Device.cpu())) {
            long[] shape = io.get("z").shape();
            VaeGolden.Capture capture = new VaeGolden.Capture((int) shape[0]);
            DecodedImages out = vae.decodeLatents(io.get("z").toFloatArray(), shape, capture);
            VaeGolden.assertClose(io.get("image").toFloatArray(), out.image(), "image from z");
            VaeGolden.assertClose(io.get("post_quant_conv_out").toFloatArray(), capture.stages.get("post_quant_conv_out"),
                    "post_quant_conv_out from z");
            float[] z = io.get("z").toFloatArray(), ref = io.get("decoder_in").toFloatArray();
            for (int i = 0; i < z.length; i++) {
                assertEquals(ref[i], z[i] / (float) c.scalingFactor(), Math.ulp(ref[i]), "decoder_in[" + i + "]");
            }
        }
    }

    /**
     * One sample per tile gives the numbers of one whole-batch tile (up to rounding: the GEMMs are cut into
     * other pieces), and a cached plan reused gives identical ones.
     */
    @ParameterizedTest
    @MethodSource("cases")
    void tilesOfSamplesDecodeLikeTheWholeBatch(String name) {
        VaeConfig c = VaeGolden.config(name);
        try (TensorFile io = VaeGolden.io(name); TensorFile w = VaeGolden.weights(name);
                VaeDecoder vae = VaeDecoder.load(w, c, Device.cpu())) {
            long[] shape = io.get("decoder_in").shape();
            float[] in = io.get("decoder_in").toFloatArray();
            float[] whole = vae.tileSamples((int) shape[0]).decode(in, shape).image();
            VaeGolden.Capture capture = new VaeGolden.Capture((int) shape[0]);
            float[] tiled = vae.tileSamples(1).decode(in, shape, capture).image();
            for (int i = 0; i < whole.length; i++) {
                assertEquals(whole[i], tiled[i], 1e-5 * Math.max(1, Math.abs(whole[i])), "image[" + i + "]");
            }
            VaeGolden.assertClose(io.get("mid_attn_out").toFloatArray(), capture.stages.get("mid_attn_out"), "mid_attn_out");
            float[] again = vae.decode(in, shape).image();  // the cached plan, reused
            assertArrayEquals(tiled, again);
        }
    }
}
