package io.dyndit.model;

/**
 * DiT's fixed 2-D sin-cos position embedding (float64, cast to float32), as in the official code.
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class PosEmbed {
    private PosEmbed() {}

    /**
     * [g*g, dim]: token i*g+j gets [sin(j w), cos(j w), sin(i w), cos(i w)], w_m = 1/10000^(m/(dim/4)):
     * the first half encodes the column j, the second the row i.
     */
    public static float[] sinCos2d(int dim, int g) {
        return sinCos2d(dim, g, 1);
    }

    /**
     * The same formula at coarse patch centres (FlexiDiT): coarse index i sits at u = i*f + (f-1)/2 in native
     * grid units (f = q/p); f = 1 is DiT's own embedding.
     */
    public static float[] sinCos2d(int dim, int g, int f) {
        if (dim % 4 != 0) {
            throw new ModelConfigException("hidden_size " + dim + " must be a multiple of 4 for the sin-cos embedding");
        }
        int quarter = dim / 4;
        float[] out = new float[g * g * dim];
        for (int i = 0; i < g; i++) {
            for (int j = 0; j < g; j++) {
                double ui = i * f + (f - 1) / 2.0, uj = j * f + (f - 1) / 2.0;
                int base = (i * g + j) * dim;
                for (int m = 0; m < quarter; m++) {
                    double w = 1.0 / Math.pow(10000.0, (double) m / quarter);
                    out[base + m] = (float) Math.sin(uj * w);
                    out[base + quarter + m] = (float) Math.cos(uj * w);
                    out[base + 2 * quarter + m] = (float) Math.sin(ui * w);
                    out[base + 3 * quarter + m] = (float) Math.cos(ui * w);
                }
            }
        }
        return out;
    }
}
