package io.dyndit.model;

/** DiT's fixed 2-D sin-cos position embedding (float64, cast to float32), as in the official code. */
public final class PosEmbed {
    private PosEmbed() {}

    /**
     * [g*g, dim]: token i*g+j gets [sin(j w), cos(j w), sin(i w), cos(i w)], w_m = 1/10000^(m/(dim/4)):
     * the first half encodes the column j, the second the row i.
     */
    public static float[] sinCos2d(int dim, int g) {
        if (dim % 4 != 0) {
            throw new ModelConfigException("hidden_size " + dim + " must be a multiple of 4 for the sin-cos embedding");
        }
        int q = dim / 4;
        float[] out = new float[g * g * dim];
        for (int i = 0; i < g; i++) {
            for (int j = 0; j < g; j++) {
                int base = (i * g + j) * dim;
                for (int m = 0; m < q; m++) {
                    double w = 1.0 / Math.pow(10000.0, (double) m / q);
                    out[base + m] = (float) Math.sin(j * w);
                    out[base + q + m] = (float) Math.cos(j * w);
                    out[base + 2 * q + m] = (float) Math.sin(i * w);
                    out[base + 3 * q + m] = (float) Math.cos(i * w);
                }
            }
        }
        return out;
    }
}
