package io.dyndit.vae;

import io.dyndit.io.JsonParser;
import io.dyndit.io.TensorFile;
import io.dyndit.model.ModelConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The decoder half of a diffusers {@code AutoencoderKL} config (names as in its config.json). Missing keys take
 * the AutoencoderKL constructor defaults, as diffusers does; encoder-only keys are ignored.
 *
 * @param blockOutChannels  B, narrowest first; the decoder runs them widest first
 * @param layersPerBlock    L: each up block has L + 1 resnets
 * @param normNumGroups     G of every GroupNorm
 * @param latentChannels    channels of the latent z
 * @param outChannels       image channels (3)
 * @param scalingFactor     the caller divides z by this before decoding (0.18215 for SD)
 * @param shiftFactor       added after that division (0 for SD; some later VAEs set it)
 * @param usePostQuantConv  whether post_quant_conv (1x1, before the decoder) exists
 * @param midBlockAttention whether the mid block has its attention
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record VaeConfig(List<Integer> blockOutChannels, int layersPerBlock, int normNumGroups, int latentChannels,
        int outChannels, double scalingFactor, double shiftFactor, boolean usePostQuantConv, boolean midBlockAttention) {

    /** GroupNorm epsilon of every norm in the decoder (diffusers hard-codes it). */
    public static final float NORM_EPS = 1e-6f;

    public VaeConfig {
        blockOutChannels = List.copyOf(blockOutChannels);
        require(!blockOutChannels.isEmpty(), "block_out_channels must not be empty");
        require(normNumGroups > 0, "norm_num_groups must be > 0 (got " + normNumGroups + ")");
        for (int c : blockOutChannels) {
            require(c > 0 && c % normNumGroups == 0, "block_out_channels " + blockOutChannels
                    + ": every width must be a positive multiple of norm_num_groups " + normNumGroups);
        }
        require(layersPerBlock >= 0, "layers_per_block must be >= 0 (got " + layersPerBlock + ")");
        require(latentChannels > 0, "latent_channels must be > 0 (got " + latentChannels + ")");
        require(outChannels > 0, "out_channels must be > 0 (got " + outChannels + ")");
        require(scalingFactor > 0 && Double.isFinite(scalingFactor),
                "scaling_factor must be > 0 (got " + scalingFactor + ")");
        require(Double.isFinite(shiftFactor), "shift_factor must be finite");
    }

    /** The Stable Diffusion VAE that DiT uses (stabilityai/sd-vae-ft-ema and -mse). */
    public static VaeConfig stableDiffusion() {
        return new VaeConfig(List.of(128, 256, 512, 512), 2, 32, 4, 3, 0.18215, 0, true, true);
    }

    /** Number of up blocks (n = len(block_out_channels)). */
    public int levels() {
        return blockOutChannels.size();
    }

    /** B[i]. */
    public int width(int i) {
        return blockOutChannels.get(i);
    }

    /** C = B[n-1], the width of conv_in and the mid block. */
    public int innerWidth() {
        return width(levels() - 1);
    }

    /** Image side per latent side: 2^(n-1). */
    public int upscale() {
        return 1 << (levels() - 1);
    }

    /** Output width of up block i (execution order, widest first). */
    public int upBlockOut(int i) {
        return width(levels() - 1 - i);
    }

    /** Input width of up block i. */
    public int upBlockIn(int i) {
        return i == 0 ? innerWidth() : width(levels() - i);
    }

    /** The hub's flat config.json, or a JSON whose {@code config} member is that dict (as the golden case.json). */
    public static VaeConfig fromJson(Path file) {
        Map<String, Object> m;
        try {
            m = JsonParser.parseObjectFile(file); // strict UTF-8, names the file
        } catch (io.dyndit.core.DynditException e) {
            throw new ModelConfigException("VAE config " + e.getMessage());
        }
        return fromMap(m, file.toString());
    }

    /**
     * The hub layout: a config.json next to the weights whose {@code _class_name} is AutoencoderKL; null when there
     * is none (or it describes something else, such as a DiT).
     */
    public static VaeConfig besideWeights(Path weightsFile) {
        Path parent = weightsFile.toAbsolutePath().getParent();
        Path cfg = parent == null ? null : parent.resolve("config.json");
        if (cfg == null || !Files.isRegularFile(cfg)) {
            return null;
        }
        Map<String, Object> m;
        try {
            m = JsonParser.parseObjectFile(cfg);
        } catch (RuntimeException e) {
            return null;
        }
        return "AutoencoderKL".equals(m.get("_class_name")) ? fromMap(m, cfg.toString()) : null;
    }

    @SuppressWarnings("unchecked")
    public static VaeConfig fromMap(Map<String, Object> map, String source) {
        Map<String, Object> m = map;
        if (!m.containsKey("block_out_channels") && m.get("config") instanceof Map<?, ?> inner) {
            m = (Map<String, Object>) inner;
        }
        try {
            String act = m.get("act_fn") == null ? "silu" : String.valueOf(m.get("act_fn"));
            require(act.equals("silu"), "act_fn '" + act + "' is not supported (only silu)");
            List<Integer> blocks = intList(m, "block_out_channels", List.of(64));
            if (m.get("up_block_types") instanceof List<?> types) {
                require(types.size() == blocks.size(), "up_block_types has " + types.size()
                        + " entries but block_out_channels has " + blocks.size());
                for (Object t : types) {
                    require("UpDecoderBlock2D".equals(t),
                            "up block type '" + t + "' is not supported (only UpDecoderBlock2D)");
                }
            }
            Object shift = m.get("shift_factor");
            if (!m.containsKey("scaling_factor") || !m.containsKey("norm_num_groups")) {
                String missing = "VAE config " + source + " lacks "
                        + (m.containsKey("scaling_factor") ? "" : "scaling_factor (assuming 0.18215) ")
                        + (m.containsKey("norm_num_groups") ? "" : "norm_num_groups (assuming 32)");
                System.getLogger("io.dyndit.vae").log(System.Logger.Level.INFO, missing);
            }
            return new VaeConfig(blocks, intKey(m, "layers_per_block", 1), intKey(m, "norm_num_groups", 32),
                    intKey(m, "latent_channels", 4), intKey(m, "out_channels", 3), numKey(m, "scaling_factor", 0.18215),
                    shift == null ? 0 : numKey(m, "shift_factor", 0), boolKey(m, "use_post_quant_conv", true),
                    boolKey(m, "mid_block_add_attention", true));
        } catch (ModelConfigException e) {
            throw new ModelConfigException("VAE config " + source + ": " + e.getMessage());
        }
    }

    /**
     * Reads the structure off the checkpoint's decoder tensors (any naming {@link VaeKeys} accepts). GroupNorm's
     * group count is not visible in shapes, so it is the SD value 32, and the scaling factor is SD's 0.18215: pass a
     * config.json for anything else.
     */
    public static VaeConfig infer(TensorFile file) {
        VaeKeys keys = VaeKeys.of(file);
        List<Integer> reversed = new ArrayList<>();
        while (keys.contains("decoder.up_blocks." + reversed.size() + ".resnets.0.conv1.weight")) {
            reversed.add((int) keys.get("decoder.up_blocks." + reversed.size() + ".resnets.0.conv1.weight").shape()[0]);
        }
        if (reversed.isEmpty()) {
            throw new ModelConfigException("no decoder up blocks found in " + file.source());
        }
        List<Integer> blocks = new ArrayList<>();
        for (int i = reversed.size() - 1; i >= 0; i--) {
            blocks.add(reversed.get(i));
        }
        int resnets = 0;
        while (keys.contains("decoder.up_blocks.0.resnets." + resnets + ".conv1.weight")) {
            resnets++;
        }
        long[] convIn = keys.get("decoder.conv_in.weight").shape();
        long[] convOut = keys.get("decoder.conv_out.weight").shape();
        if (convIn.length != 4 || convOut.length != 4) {
            throw new ModelConfigException("decoder.conv_in / conv_out weights in " + file.source() + " are not 4-D");
        }
        System.getLogger("io.dyndit.vae").log(System.Logger.Level.INFO, () -> "VAE config of " + file.source()
                + " inferred from its tensors: assuming Stable Diffusion's 32 GroupNorm groups and scaling factor 0.18215"
                + " (not visible in the weights; pass config.json for another VAE)");
        try {
            return new VaeConfig(blocks, resnets - 1, 32, (int) convIn[1], (int) convOut[0], 0.18215, 0,
                    keys.contains("post_quant_conv.weight"),
                    keys.contains("decoder.mid_block.attentions.0.group_norm.weight"));
        } catch (ModelConfigException e) {
            throw new ModelConfigException("cannot infer the VAE config of " + file.source() + " (" + e.getMessage()
                    + "); pass its config.json");
        }
    }

    private static List<Integer> intList(Map<String, Object> m, String key, List<Integer> dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        require(v instanceof List, "key '" + key + "' must be a list of integers, got " + v);
        List<Integer> out = new ArrayList<>();
        for (Object e : (List<?>) v) {
            out.add(asInt(key, e));
        }
        return out;
    }

    private static int intKey(Map<String, Object> m, String key, int dflt) {
        Object v = m.get(key);
        return v == null ? dflt : asInt(key, v);
    }

    private static int asInt(String key, Object v) {
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            if (Math.abs(n.doubleValue()) < 1e9) {
                return n.intValue();
            }
            throw new ModelConfigException("key '" + key + "' = " + v + " is out of range [-999999999, 999999999]");
        }
        throw new ModelConfigException("key '" + key + "' must be an integer, got " + v);
    }

    private static double numKey(Map<String, Object> m, String key, double dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        require(v instanceof Number, "key '" + key + "' must be a number, got " + v);
        return ((Number) v).doubleValue();
    }

    private static boolean boolKey(Map<String, Object> m, String key, boolean dflt) {
        Object v = m.get(key);
        if (v == null) {
            return dflt;
        }
        require(v instanceof Boolean, "key '" + key + "' must be true or false, got " + v);
        return (Boolean) v;
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new ModelConfigException(message);
        }
    }
}
