package io.dyndit.model;

/** Classifier-free guidance combine as the official forward_with_cfg does it. */
final class Guidance {
    private Guidance() {}

    /**
     * out is [2n, Co, HW]: rows 0..n-1 conditional, n..2n-1 unconditional. Channels below {@code guided}
     * become uncond + s (cond - uncond) in BOTH halves; the other channels keep their raw values.
     */
    static void combineFirstChannels(float[] out, int n, int channels, int plane, int guided, float s) {
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < guided; ch++) {
                int cond = (i * channels + ch) * plane, unc = ((i + n) * channels + ch) * plane;
                for (int e = 0; e < plane; e++) {
                    float u = out[unc + e];
                    float g = u + s * (out[cond + e] - u);
                    out[cond + e] = g;
                    out[unc + e] = g;
                }
            }
        }
    }

    /**
     * FlexiDiT weak guidance: cond [n, Co, HW] becomes g + s_w (cond - g) on channels below {@code guided}, with g
     * the guidance branch; the other channels keep the conditional branch's values.
     */
    static void weak(float[] cond, float[] guide, int n, int channels, int plane, int guided, float sw) {
        for (int i = 0; i < n; i++) {
            for (int ch = 0; ch < guided; ch++) {
                int o = (i * channels + ch) * plane;
                for (int e = 0; e < plane; e++) {
                    float g = guide[o + e];
                    cond[o + e] = g + sw * (cond[o + e] - g);
                }
            }
        }
    }
}
