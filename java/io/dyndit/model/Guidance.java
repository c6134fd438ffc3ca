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
}
