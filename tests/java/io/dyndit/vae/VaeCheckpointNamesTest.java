package io.dyndit.vae;

import io.dyndit.io.MapTensorFile;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dyndit.core.Device;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.TensorFile;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same golden decoder under the other spellings a checkpoint may use, and config inference from shapes. */
class VaeCheckpointNamesTest {
    private static final String CASE = "v2_sdvae_div8_g8_4x4";
    private static final String ATTN = "decoder.mid_block.attentions.0.";

    @TempDir
    Path dir;

    private static float[] decode(TensorFile weights, VaeConfig c) {
        try (TensorFile io = VaeGolden.io(CASE); VaeDecoder vae = VaeDecoder.load(weights, c, Device.cpu())) {
            return vae.decode(io.get("decoder_in").toFloatArray(), io.get("decoder_in").shape()).image();
        }
    }

    private static float[] reference() {
        try (TensorFile w = VaeGolden.weights(CASE)) {
            return decode(w, VaeGolden.config(CASE));
        }
    }

    /** query/key/value/proj_attn, as the 2022 hub uploads of sd-vae-ft-ema/-mse have them. */
    @Test
    void deprecatedAttentionNames() {
        try (TensorFile w = VaeGolden.weights(CASE)) {
            MapTensorFile m = MapTensorFile.copyOf(w);
            for (String[] p : new String[][] {{"to_q", "query"}, {"to_k", "key"}, {"to_v", "value"},
                    {"to_out.0", "proj_attn"}}) {
                m.rename(ATTN + p[0] + ".weight", ATTN + p[1] + ".weight").rename(ATTN + p[0] + ".bias", ATTN + p[1] + ".bias");
            }
            assertArrayEquals(reference(), decode(m, VaeGolden.config(CASE)));
        }
    }

    /**
     * CompVis / original SD .ckpt names under first_stage_model.: mid.block_1, up.{n-1-i}.block.j, nin_shortcut,
     * upsample.conv, norm_out, attn_1.{norm,q,k,v,proj_out} with 1x1-conv weights [C,C,1,1]; written to a real
     * safetensors file and loaded by path (config from case.json's `config` member).
     */
    @Test
    void compVisNamesWithPrefixFromAFile() {
        VaeConfig c = VaeGolden.config(CASE);
        int n = c.levels();
        MapTensorFile m;
        try (TensorFile w = VaeGolden.weights(CASE)) {
            m = MapTensorFile.copyOf(w);
        }
        MapTensorFile renamed = new MapTensorFile("compvis");
        for (String key : m.names()) {
            String to = key.replace("decoder.conv_norm_out.", "decoder.norm_out.")
                    .replace("decoder.mid_block.resnets.0.", "decoder.mid.block_1.")
                    .replace("decoder.mid_block.resnets.1.", "decoder.mid.block_2.")
                    .replace(ATTN + "group_norm.", "decoder.mid.attn_1.norm.")
                    .replace(ATTN + "to_q.", "decoder.mid.attn_1.q.")
                    .replace(ATTN + "to_k.", "decoder.mid.attn_1.k.")
                    .replace(ATTN + "to_v.", "decoder.mid.attn_1.v.")
                    .replace(ATTN + "to_out.0.", "decoder.mid.attn_1.proj_out.")
                    .replace("conv_shortcut", "nin_shortcut");
            for (int i = 0; i < n; i++) {
                to = to.replace("decoder.up_blocks." + i + ".resnets.", "decoder.upX." + (n - 1 - i) + ".block.")
                        .replace("decoder.up_blocks." + i + ".upsamplers.0.", "decoder.upX." + (n - 1 - i) + ".upsample.");
            }
            to = "first_stage_model." + to.replace("decoder.upX.", "decoder.up.");
            var t = m.get(key);
            boolean attnWeight = to.contains("attn_1.") && to.endsWith(".weight") && !to.contains(".norm.");
            long[] shape = attnWeight ? new long[] {t.shape()[0], t.shape()[1], 1, 1} : t.shape();
            renamed.put(to, io.dyndit.io.StoredTensor.of(to, t.dtype(), shape, t.data()));
        }
        // an SD checkpoint also holds the encoder and the UNet: they must be ignored
        renamed.put("first_stage_model.encoder.conv_in.weight", m.get("decoder.conv_in.weight"));
        renamed.put("model.diffusion_model.out.2.bias", m.get("decoder.conv_out.bias"));
        Path file = dir.resolve("sd.safetensors");
        SafetensorsWriter.write(file, renamed.asMap());
        try (VaeDecoder vae = VaeDecoder.load(file, VaeGolden.dir(CASE).resolve("case.json"), Device.cpu());
                TensorFile io = VaeGolden.io(CASE)) {
            float[] got = vae.decode(io.get("decoder_in").toFloatArray(), io.get("decoder_in").shape()).image();
            assertArrayEquals(reference(), got);
        }
    }

    /** Without a config.json the structure comes from the shapes (G and scaling default to SD's). */
    @Test
    void configInferredFromShapes() {
        for (String name : VaeGolden.CASES) {
            VaeConfig golden = VaeGolden.config(name);
            try (TensorFile w = VaeGolden.weights(name)) {
                VaeConfig inferred = VaeConfig.infer(w);
                assertEquals(golden.blockOutChannels(), inferred.blockOutChannels(), name);
                assertEquals(golden.layersPerBlock(), inferred.layersPerBlock(), name);
                assertEquals(golden.latentChannels(), inferred.latentChannels(), name);
                assertEquals(golden.outChannels(), inferred.outChannels(), name);
                assertEquals(0.18215, inferred.scalingFactor());
            } catch (io.dyndit.model.ModelConfigException e) {
                // widths 16 are not multiples of SD's 32 groups: the message must say to pass the config
                assertEquals("v2_sdvae_div8_g8_4x4", name, e.getMessage());
                org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("config.json"), e.getMessage());
            }
        }
        assertEquals(List.of(128, 256, 512, 512), VaeConfig.infer(new RandomVae(VaeConfig.stableDiffusion(), 3))
                .blockOutChannels());
    }

    /** The hub layout: diffusion_pytorch_model.safetensors with its config.json beside it, no --config needed. */
    @Test
    void configJsonBesideTheWeights() throws Exception {
        Path weights = dir.resolve("diffusion_pytorch_model.safetensors");
        java.nio.file.Files.copy(VaeGolden.dir(CASE).resolve("weights.safetensors"), weights);
        assertEquals(null, VaeConfig.besideWeights(weights));
        java.nio.file.Files.writeString(dir.resolve("config.json"), """
                {"_class_name": "AutoencoderKL", "act_fn": "silu", "block_out_channels": [16, 32, 64, 64],
                 "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 8, "out_channels": 3,
                 "scaling_factor": 0.18215}
                """);
        assertEquals(VaeGolden.config(CASE), VaeConfig.besideWeights(weights));
        try (VaeDecoder vae = VaeDecoder.load(weights, null, Device.cpu()); TensorFile io = VaeGolden.io(CASE)) {
            float[] got = vae.decode(io.get("decoder_in").toFloatArray(), io.get("decoder_in").shape()).image();
            assertArrayEquals(reference(), got);
        }
    }

    /** The hub's flat config.json (diffusers keys, encoder fields included) parses to the SD structure. */
    @Test
    void hubConfigJson() throws Exception {
        Path cfg = dir.resolve("config.json");
        java.nio.file.Files.writeString(cfg, """
                {"_class_name": "AutoencoderKL", "_diffusers_version": "0.4.2", "act_fn": "silu",
                 "block_out_channels": [128, 256, 512, 512],
                 "down_block_types": ["DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D", "DownEncoderBlock2D"],
                 "in_channels": 3, "latent_channels": 4, "layers_per_block": 2, "norm_num_groups": 32, "out_channels": 3,
                 "sample_size": 256,
                 "up_block_types": ["UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D", "UpDecoderBlock2D"]}
                """);
        assertEquals(VaeConfig.stableDiffusion(), VaeConfig.fromJson(cfg));
        assertEquals(VaeConfig.stableDiffusion(), VaeConfig.fromMap(Map.of("config", Map.of(
                "block_out_channels", List.of(128L, 256L, 512L, 512L), "layers_per_block", 2L)), "nested"));
    }
}
