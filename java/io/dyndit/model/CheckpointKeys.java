package io.dyndit.model;

import io.dyndit.io.TensorFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The tensor names a DiT checkpoint of a given config may hold (DiT, DyDiT routers, DiffCR routers, FlexiDiT extras):
 * a tensor outside them means the config does not describe the checkpoint (e.g. fewer blocks than it has), which
 * would otherwise run a truncated network without a word.
 */
final class CheckpointKeys {
    private static final Set<String> TOP = Set.of("pos_embed", "x_embedder.proj.weight", "x_embedder.proj.bias",
            "t_embedder.mlp.0.weight", "t_embedder.mlp.0.bias", "t_embedder.mlp.2.weight", "t_embedder.mlp.2.bias",
            "y_embedder.embedding_table.weight", "final_layer.linear.weight", "final_layer.linear.bias",
            "final_layer.adaLN_modulation.1.weight", "final_layer.adaLN_modulation.1.bias", "diffcr.ratios");
    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d{1,9})\\.(attn\\.qkv|attn\\.proj|mlp\\.fc1|mlp\\.fc2"
            + "|adaLN_modulation\\.1|attn_rate\\.router|mlp_rate\\.router|token_selection\\.mlp_head\\.[02])\\.(weight|bias)"
            + "|blocks\\.(\\d{1,9})\\.diffcr_router\\.weight");

    private CheckpointKeys() {}

    /** Refuses a checkpoint with tensors the config does not use, naming them (before anything is allocated). */
    static void requireAllUsed(TensorFile f, DiTConfig c) {
        List<String> unused = new ArrayList<>();
        for (String name : f.names()) {
            if (!used(name, c.depth())) {
                unused.add(name);
            }
        }
        if (!unused.isEmpty()) {
            int show = Math.min(5, unused.size());
            throw new ModelConfigException(f.source() + " has " + unused.size() + " tensor(s) the config (depth "
                    + c.depth() + ") does not use: " + String.join(", ", unused.subList(0, show))
                    + (unused.size() > show ? ", ..." : "") + "; is the config the checkpoint's?");
        }
    }

    private static boolean used(String name, int depth) {
        if (TOP.contains(name) || name.startsWith("flexi.")) {
            return true;
        }
        Matcher m = BLOCK.matcher(name);
        if (!m.matches()) {
            return false;
        }
        String index = m.group(1) != null ? m.group(1) : m.group(4);
        return Long.parseLong(index) < depth;
    }
}
