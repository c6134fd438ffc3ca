package io.dyndit.vae;

/**
 * Multiply-accumulates of one decoded sample, for GFLOP/s figures (the convolutions dominate).
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class VaeFlops {
    private VaeFlops() {}

    /** MACs to decode one latent of h x w: every conv, the attention's four Linears, q k^T and P v. */
    public static double macsPerSample(VaeConfig c, int h, int w) {
        double macs = 0;
        double px = (double) h * w;
        int zc = c.latentChannels(), inner = c.innerWidth();
        if (c.usePostQuantConv()) {
            macs += px * zc * zc;
        }
        macs += px * inner * zc * 9;
        macs += 2 * resnet(inner, inner, px);
        if (c.midBlockAttention()) {
            macs += 4 * px * inner * inner + 2 * px * px * inner;
        }
        for (int i = 0; i < c.levels(); i++) {
            int out = c.upBlockOut(i);
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                macs += resnet(j == 0 ? c.upBlockIn(i) : out, out, px);
            }
            if (i < c.levels() - 1) {
                px *= 4;
                macs += px * out * out * 9;
            }
        }
        return macs + px * c.outChannels() * c.width(0) * 9;
    }

    private static double resnet(int in, int out, double px) {
        return px * 9.0 * ((double) in * out + (double) out * out) + (in != out ? px * in * out : 0);
    }
}
