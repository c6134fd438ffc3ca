package io.dyndit.vae;

import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds decoder tensors by their diffusers names (e.g. {@code decoder.up_blocks.0.resnets.1.conv2.weight}) in a
 * checkpoint that may spell them three ways: diffusers; diffusers with the deprecated attention names
 * (query/key/value/proj_attn, as the 2022 sd-vae-ft uploads have); or the original CompVis / SD {@code .ckpt}
 * names (mid.block_1, up.{n-1-i}.block.j, nin_shortcut, attn_1.q...). Any common prefix such as
 * {@code first_stage_model.} is detected. Remembers which tensors were used, so a strict load can list the rest.
 */
final class VaeKeys {
    private static final String ANCHOR = "decoder.conv_in.weight";
    private static final Pattern UP_RESNET = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.resnets\\.(\\d+)\\.(.+)");
    private static final Pattern UP_SAMPLER = Pattern.compile("decoder\\.up_blocks\\.(\\d+)\\.upsamplers\\.0\\.(.+)");
    private static final Pattern MID_RESNET = Pattern.compile("decoder\\.mid_block\\.resnets\\.(\\d+)\\.(.+)");
    private static final String MID_ATTN = "decoder.mid_block.attentions.0.";

    private final TensorFile file;
    private final String prefix;
    private final boolean compVis;
    private final int compVisLevels;  // up blocks in a CompVis checkpoint, for the reversed index
    private final Set<String> used = new HashSet<>();

    private VaeKeys(TensorFile file, String prefix, boolean compVis, int compVisLevels) {
        this.file = file;
        this.prefix = prefix;
        this.compVis = compVis;
        this.compVisLevels = compVisLevels;
    }

    static VaeKeys of(TensorFile file) {
        String prefix = null;
        if (file.contains(ANCHOR)) {
            prefix = "";
        } else {
            for (String name : file.names()) {
                if (name.endsWith("." + ANCHOR)) {
                    prefix = name.substring(0, name.length() - ANCHOR.length());
                    break;
                }
            }
        }
        if (prefix == null) {
            throw new TensorNotFoundException(ANCHOR, file.source()
                    + " (no VAE decoder in it: expected diffusers AutoencoderKL or CompVis first_stage_model names)");
        }
        boolean compVis = file.contains(prefix + "decoder.mid.block_1.conv1.weight");
        int levels = 0;
        while (compVis && file.contains(prefix + "decoder.up." + levels + ".block.0.conv1.weight")) {
            levels++;
        }
        return new VaeKeys(file, prefix, compVis, levels);
    }

    String source() {
        return file.source();
    }

    boolean contains(String key) {
        return find(key) != null;
    }

    /** The tensor under its diffusers name; TensorNotFoundException names it (and the spelling looked for). */
    StoredTensor get(String key) {
        String name = find(key);
        if (name == null) {
            String tried = candidates(key).isEmpty() ? "" : " (looked for " + String.join(" / ", candidates(key)) + ")";
            throw new TensorNotFoundException(key, file.source() + tried);
        }
        used.add(name);
        return file.get(name);
    }

    /** Decoder-path tensors of the file that no get() asked for: a config that does not match the checkpoint. */
    List<String> unusedDecoderTensors() {
        List<String> out = new ArrayList<>();
        for (String name : file.names()) {
            String rest = name.startsWith(prefix) ? name.substring(prefix.length()) : null;
            boolean decoderPath = rest != null && (rest.startsWith("decoder.") || rest.startsWith("post_quant_conv."));
            if (decoderPath && !used.contains(name)) {
                out.add(name);
            }
        }
        return out;
    }

    private String find(String key) {
        for (String c : candidates(key)) {
            if (file.contains(c)) {
                return c;
            }
        }
        return null;
    }

    private List<String> candidates(String key) {
        List<String> out = new ArrayList<>();
        if (compVis) {
            String c = compVisName(key);
            if (c != null) {
                out.add(prefix + c);
            }
            return out;
        }
        out.add(prefix + key);
        if (key.startsWith(MID_ATTN)) {
            String rest = key.substring(MID_ATTN.length());
            String old = rest.startsWith("to_q.") ? "query." + rest.substring(5)
                    : rest.startsWith("to_k.") ? "key." + rest.substring(5)
                    : rest.startsWith("to_v.") ? "value." + rest.substring(5)
                    : rest.startsWith("to_out.0.") ? "proj_attn." + rest.substring(9) : null;
            if (old != null) {
                out.add(prefix + MID_ATTN + old);
            }
        }
        return out;
    }

    /** The CompVis name of a diffusers decoder key (reference doc's mapping table); null when it has none. */
    private String compVisName(String key) {
        if (key.startsWith("decoder.conv_norm_out.")) {
            return "decoder.norm_out." + key.substring("decoder.conv_norm_out.".length());
        }
        Matcher m = MID_RESNET.matcher(key);
        if (m.matches()) {
            return "decoder.mid.block_" + (Integer.parseInt(m.group(1)) + 1) + "." + shortcut(m.group(2));
        }
        if (key.startsWith(MID_ATTN)) {
            String rest = key.substring(MID_ATTN.length());
            String mapped = rest.startsWith("group_norm.") ? "norm." + rest.substring(11)
                    : rest.startsWith("to_q.") ? "q." + rest.substring(5)
                    : rest.startsWith("to_k.") ? "k." + rest.substring(5)
                    : rest.startsWith("to_v.") ? "v." + rest.substring(5)
                    : rest.startsWith("to_out.0.") ? "proj_out." + rest.substring(9) : null;
            return mapped == null ? null : "decoder.mid.attn_1." + mapped;
        }
        m = UP_RESNET.matcher(key);
        if (m.matches()) {
            int level = compVisLevels - 1 - Integer.parseInt(m.group(1));
            return level < 0 ? null : "decoder.up." + level + ".block." + m.group(2) + "." + shortcut(m.group(3));
        }
        m = UP_SAMPLER.matcher(key);
        if (m.matches()) {
            int level = compVisLevels - 1 - Integer.parseInt(m.group(1));
            return level < 0 ? null : "decoder.up." + level + ".upsample." + m.group(2);
        }
        return key;  // post_quant_conv, decoder.conv_in, decoder.conv_out
    }

    private static String shortcut(String rest) {
        return rest.startsWith("conv_shortcut.") ? "nin_shortcut." + rest.substring("conv_shortcut.".length()) : rest;
    }
}
