package io.dyndit.vae;

import io.dyndit.io.MapTensorFile;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import io.dyndit.core.DeviceUnavailableException;
import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import io.dyndit.model.ModelConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken checkpoints, configs and latents: typed exceptions that name the tensor or key and the shapes. */
class VaeBadInputTest {
    private static final String CASE = "v1_tiny_32_64_g8_4x6";

    @TempDir
    Path dir;

    private static MapTensorFile weights() {
        try (TensorFile w = VaeGolden.weights(CASE)) {
            return MapTensorFile.copyOf(w);
        }
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
        }
    }

    @Test
    void missingTensorIsNamed() {
        MapTensorFile m = weights();
        m.remove("decoder.up_blocks.1.resnets.2.conv2.bias");
        var e = assertThrows(TensorNotFoundException.class, () -> VaeDecoder.load(m, VaeGolden.config(CASE), Device.cpu()));
        assertEquals("decoder.up_blocks.1.resnets.2.conv2.bias", e.tensorName());
    }

    @Test
    void missingAttentionNamesBothSpellings() {
        MapTensorFile m = weights();
        m.remove("decoder.mid_block.attentions.0.to_k.weight");
        var e = assertThrows(TensorNotFoundException.class, () -> VaeDecoder.load(m, VaeGolden.config(CASE), Device.cpu()));
        assertMentions(e, "decoder.mid_block.attentions.0.to_k.weight", "attentions.0.key.weight");
    }

    @Test
    void misShapedTensorNamesExpectedAndActual() {
        MapTensorFile m = weights();
        StoredTensor t = m.get("decoder.up_blocks.0.resnets.0.conv1.weight");  // [64, 64, 3, 3]
        m.put(t.name(), StoredTensor.ofFloats(t.name(), new long[] {64, 32, 3, 3}, new float[64 * 32 * 9]));
        var e = assertThrows(ShapeMismatchException.class, () -> VaeDecoder.load(m, VaeGolden.config(CASE), Device.cpu()));
        assertMentions(e, "decoder.up_blocks.0.resnets.0.conv1.weight", "[64, 32, 3, 3]", "[64, 64, 3, 3]");
        m.put("decoder.mid_block.attentions.0.to_q.weight", StoredTensor.ofFloats("q", new long[] {64, 63},
                new float[64 * 63]));
        m.put(t.name(), t);
        var a = assertThrows(ShapeMismatchException.class, () -> VaeDecoder.load(m, VaeGolden.config(CASE), Device.cpu()));
        assertMentions(a, "to_q.weight", "[64, 63]", "[64, 64]");
    }

    @Test
    void wrongLatentChannelsAndRank() {
        try (VaeDecoder vae = VaeDecoder.load(weights(), VaeGolden.config(CASE), Device.cpu())) {
            var e = assertThrows(ShapeMismatchException.class, () -> vae.decodeLatents(new float[2 * 3 * 4 * 6],
                    new long[] {2, 3, 4, 6}));
            assertMentions(e, "'z'", "[2, 3, 4, 6]", "[N, 4, h, w]");
            assertThrows(ShapeMismatchException.class, () -> vae.decode(new float[4 * 4 * 6], new long[] {4, 4, 6}));
            assertThrows(ShapeMismatchException.class, () -> vae.decode(new float[10], new long[] {1, 4, 4, 6}));
        }
    }

    /** A config with fewer layers than the checkpoint: strict load lists the tensors it would silently drop. */
    @Test
    void configThatDoesNotMatchTheCheckpoint() {
        VaeConfig golden = VaeGolden.config(CASE);
        VaeConfig fewer = new VaeConfig(golden.blockOutChannels(), 1, golden.normNumGroups(), 4, 3, 0.18215, 0, true, true);
        var e = assertThrows(ModelConfigException.class, () -> VaeDecoder.load(weights(), fewer, Device.cpu()));
        assertMentions(e, "resnets.2", "layers_per_block 1");
    }

    @Test
    void invalidConfigs() throws Exception {
        assertThrows(ModelConfigException.class, () -> new VaeConfig(List.of(30, 64), 2, 8, 4, 3, 0.18215, 0, true, true));
        Path cfg = dir.resolve("config.json");
        Files.writeString(cfg, "{\"block_out_channels\": [32, 64], \"act_fn\": \"gelu\"}");
        assertMentions(assertThrows(ModelConfigException.class, () -> VaeConfig.fromJson(cfg)), "act_fn", "gelu");
        Files.writeString(cfg, "{\"block_out_channels\": [32, 64], \"norm_num_groups\": 3}");
        assertMentions(assertThrows(ModelConfigException.class, () -> VaeConfig.fromJson(cfg)), "norm_num_groups 3");
        Files.writeString(cfg, "{\"block_out_channels\": \"wide\"}");
        assertMentions(assertThrows(ModelConfigException.class, () -> VaeConfig.fromJson(cfg)), "block_out_channels");
        Files.writeString(cfg, "{\"block_out_channels\": [32, 64], ");
        assertThrows(ModelConfigException.class, () -> VaeConfig.fromJson(cfg));
    }

    @Test
    void notAVaeCheckpoint() {
        MapTensorFile m = new MapTensorFile("dit.safetensors");
        m.put("pos_embed", StoredTensor.ofFloats("pos_embed", new long[] {1}, new float[1]));
        assertMentions(assertThrows(TensorNotFoundException.class, () -> VaeConfig.infer(m)), "decoder.conv_in.weight",
                "dit.safetensors");
    }

    /** Without a GPU, a decoder on cuda:0 is refused with a typed error that names the device. */
    @Test
    void cudaWithoutAGpuIsRefusedWithATypedError() {
        assumeFalse(Device.cuda(0).isAvailable(), "a GPU is present: decoding on it is a feature (next test)");
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> {
            try (VaeDecoder vae = VaeDecoder.load(weights(), VaeGolden.config(CASE), Device.cuda(0))) {
                vae.decode(new float[4 * 4 * 6], new long[] {1, 4, 4, 6});
            }
        });
        assertMentions(e, "cuda:0");
    }

    /**
     * Decoding is a CUDA feature: on the emulated device always and on cuda:0 where a GPU exists, bad latents are
     * the same typed errors as on the CPU, and a valid input decodes to the golden image (FP32: the golden test's
     * tolerance).
     */
    @Test
    void cudaDevicesDecodeAndRefuseBadLatents() {
        List<Device> devices = new ArrayList<>(List.of(Device.cudaEmulated()));
        if (Device.cuda(0).isAvailable()) {
            devices.add(Device.cuda(0));
        }
        for (Device dev : devices) {
            try (TensorFile io = VaeGolden.io(CASE);
                    VaeDecoder vae = VaeDecoder.load(weights(), VaeGolden.config(CASE), dev).precision(Precision.FP32)) {
                var e = assertThrows(ShapeMismatchException.class, () -> vae.decodeLatents(new float[2 * 3 * 4 * 6],
                        new long[] {2, 3, 4, 6}), dev.toString());
                assertMentions(e, "'z'", "[2, 3, 4, 6]", "[N, 4, h, w]");
                assertThrows(ShapeMismatchException.class, () -> vae.decode(new float[10], new long[] {1, 4, 4, 6}),
                        dev.toString());
                DecodedImages out = vae.decode(io.get("decoder_in").toFloatArray(), io.get("decoder_in").shape());
                VaeGolden.assertClose(io.get("image").toFloatArray(), out.image(), "image on " + dev);
            }
        }
    }
}
