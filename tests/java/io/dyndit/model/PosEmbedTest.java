package io.dyndit.model;

import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import org.junit.jupiter.api.Test;

/** The sin-cos position embedding equals the official one stored in the golden checkpoints. */
class PosEmbedTest {
    @Test
    void matchesOfficialPosEmbed() {
        for (String c : new String[] {"dit_p2_d64_h4", "dit_p4_c3_nosigma"}) {
            try (TensorFile w = TensorFiles.open(Golden.dir(c).resolve("weights.safetensors"))) {
                long[] s = w.get("pos_embed").shape();
                int g = (int) Math.round(Math.sqrt(s[1]));
                Golden.assertMatches(w.get("pos_embed").toFloatArray(), PosEmbed.sinCos2d((int) s[2], g), c + " pos_embed");
            }
        }
    }
}
