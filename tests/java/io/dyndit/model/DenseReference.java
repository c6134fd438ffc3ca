package io.dyndit.model;

import io.dyndit.io.TensorFile;

/**
 * An independent double-precision DiT / DyDiT forward written straight from the reference semantics,
 * with DyDiT masks applied the official way (dense compute, multiply by 0/1). Tests compare the engine,
 * which skips the masked work, against it. One timestep for the whole batch.
 */
final class DenseReference {
    final DiTConfig c;
    final TensorFile w;
    final boolean dynamic;
    double minMargin = Double.POSITIVE_INFINITY; // smallest |router or token logit| seen
    float[] attnMasks, mlpMasks, tokenSelect;

    DenseReference(DiTConfig c, TensorFile w, boolean dynamic) {
        this.c = c;
        this.w = w;
        this.dynamic = dynamic;
    }

    private double[] p(String name) {
        float[] f = w.get(name).toFloatArray();
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** y[r][o] = sum_i x[r][i] W[o][i] + b[o] for rows r. */
    static double[] linear(double[] x, int rows, int in, double[] wt, double[] b, int out) {
        double[] y = new double[rows * out];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < out; o++) {
                double s = b == null ? 0 : b[o];
                for (int i = 0; i < in; i++) s += x[r * in + i] * wt[o * in + i];
                y[r * out + o] = s;
            }
        return y;
    }

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    static double gelu(double v) {
        return 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
    }

    /** LN (eps 1e-6, no affine) of each row then modulate with per-sample shift/scale at offsets in ada. */
    private double[] lnMod(double[] h, int n, int tok, int d, double[] ada, int adaW, int shiftOff, int scaleOff) {
        double[] u = new double[h.length];
        for (int s = 0; s < n; s++)
            for (int t = 0; t < tok; t++) {
                int row = (s * tok + t) * d;
                double mean = 0, var = 0;
                for (int i = 0; i < d; i++) mean += h[row + i];
                mean /= d;
                for (int i = 0; i < d; i++) var += (h[row + i] - mean) * (h[row + i] - mean);
                var /= d;
                double rs = 1 / Math.sqrt(var + 1e-6);
                for (int i = 0; i < d; i++)
                    u[row + i] = (h[row + i] - mean) * rs * (1 + ada[s * adaW + scaleOff + i]) + ada[s * adaW + shiftOff + i];
            }
        return u;
    }

    private boolean[] routerMask(double[] tEmb, String name, int heads) {
        double[] logits = linear(tEmb, 1, c.hiddenSize(), p(name + ".weight"), p(name + ".bias"), rows(name));
        boolean v2 = logits.length == heads - 1;
        boolean[] m = new boolean[heads];
        if (v2) m[0] = true;
        for (int j = 0; j < logits.length; j++) {
            minMargin = Math.min(minMargin, Math.abs(logits[j]));
            m[v2 ? j + 1 : j] = 1 / (1 + Math.exp(-logits[j])) > 0.5;
        }
        return m;
    }

    private int rows(String name) {
        return (int) w.get(name + ".weight").shape()[0];
    }

    double[] forward(float[] x, long t, long[] y) {
        int n = y.length, d = c.hiddenSize(), pp = c.patchSize(), g = c.gridSize(), tok = c.tokens();
        int ch = c.inChannels(), heads = c.numHeads(), hd = c.headDim(), m = c.mlpHidden(), L = c.depth();
        attnMasks = new float[n * L * heads];
        mlpMasks = new float[n * L * heads];
        tokenSelect = new float[n * L * tok];
        // patch embedding: vector (c, a, b)
        double[] patches = new double[n * tok * ch * pp * pp];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < g; i++)
                for (int j = 0; j < g; j++)
                    for (int cc = 0; cc < ch; cc++)
                        for (int a = 0; a < pp; a++)
                            for (int b = 0; b < pp; b++)
                                patches[((s * tok + i * g + j) * ch + cc) * pp * pp + a * pp + b] =
                                        x[((s * ch + cc) * c.inputSize() + i * pp + a) * c.inputSize() + j * pp + b];
        double[] h = linear(patches, n * tok, ch * pp * pp, p("x_embedder.proj.weight"), p("x_embedder.proj.bias"), d);
        double[] pos = p("pos_embed");
        for (int s = 0; s < n; s++) for (int i = 0; i < tok * d; i++) h[s * tok * d + i] += pos[i];
        // timestep embedding: [cos, sin], freq exp(-ln(1e4) k / 128)
        double[] freq = new double[256];
        for (int k = 0; k < 128; k++) {
            double f = Math.exp(-Math.log(10000) * k / 128);
            freq[k] = Math.cos(t * f);
            freq[128 + k] = Math.sin(t * f);
        }
        double[] t1 = linear(freq, 1, 256, p("t_embedder.mlp.0.weight"), p("t_embedder.mlp.0.bias"), d);
        for (int i = 0; i < d; i++) t1[i] = silu(t1[i]);
        double[] tEmb = linear(t1, 1, d, p("t_embedder.mlp.2.weight"), p("t_embedder.mlp.2.bias"), d);
        double[] table = p("y_embedder.embedding_table.weight");
        double[] cs = new double[n * d];
        for (int s = 0; s < n; s++) for (int i = 0; i < d; i++) cs[s * d + i] = silu(tEmb[i] + table[(int) y[s] * d + i]);
        double scale = 1 / Math.sqrt(hd);
        for (int l = 0; l < L; l++) {
            String b = "blocks." + l + ".";
            double[] ada = linear(cs, n, d, p(b + "adaLN_modulation.1.weight"), p(b + "adaLN_modulation.1.bias"), 6 * d);
            boolean[] am = dynamic ? routerMask(tEmb, b + "attn_rate.router", heads) : all(heads);
            boolean[] mm = dynamic ? routerMask(tEmb, b + "mlp_rate.router", heads) : all(heads);
            for (int s = 0; s < n; s++)
                for (int q = 0; q < heads; q++) {
                    attnMasks[(s * L + l) * heads + q] = am[q] ? 1 : 0;
                    mlpMasks[(s * L + l) * heads + q] = mm[q] ? 1 : 0;
                }
            double[] u = lnMod(h, n, tok, d, ada, 6 * d, 0, d);
            double[] qkv = linear(u, n * tok, d, p(b + "attn.qkv.weight"), p(b + "attn.qkv.bias"), 3 * d);
            double[] o = new double[n * tok * d];
            for (int s = 0; s < n; s++)
                for (int q = 0; q < heads; q++)
                    for (int i = 0; i < tok; i++) {
                        double[] sc = new double[tok];
                        double mx = Double.NEGATIVE_INFINITY, sum = 0;
                        for (int j = 0; j < tok; j++) {
                            double dot = 0;
                            for (int e = 0; e < hd; e++)
                                dot += qkv[(s * tok + i) * 3 * d + q * hd + e] * qkv[(s * tok + j) * 3 * d + d + q * hd + e];
                            sc[j] = dot * scale;
                            mx = Math.max(mx, sc[j]);
                        }
                        for (int j = 0; j < tok; j++) sum += (sc[j] = Math.exp(sc[j] - mx));
                        for (int e = 0; e < hd; e++) {
                            double acc = 0;
                            for (int j = 0; j < tok; j++) acc += sc[j] * qkv[(s * tok + j) * 3 * d + 2 * d + q * hd + e];
                            o[(s * tok + i) * d + q * hd + e] = am[q] ? acc / sum : 0; // head mask on the output
                        }
                    }
            double[] att = linear(o, n * tok, d, p(b + "attn.proj.weight"), p(b + "attn.proj.bias"), d);
            for (int s = 0; s < n; s++)
                for (int i = 0; i < tok * d; i++) h[s * tok * d + i] += ada[s * 6 * d + 2 * d + i % d] * att[s * tok * d + i];
            double[] keep = new double[n * tok];
            java.util.Arrays.fill(keep, 1);
            if (dynamic) {
                int hid = d / 16;
                double[] r1 = linear(h, n * tok, d, p(b + "token_selection.mlp_head.0.weight"),
                        p(b + "token_selection.mlp_head.0.bias"), hid);
                for (int i = 0; i < r1.length; i++) r1[i] = Math.max(0, r1[i]);
                double[] lg = linear(r1, n * tok, hid, p(b + "token_selection.mlp_head.2.weight"),
                        p(b + "token_selection.mlp_head.2.bias"), 1);
                for (int i = 0; i < n * tok; i++) {
                    minMargin = Math.min(minMargin, Math.abs(lg[i]));
                    keep[i] = 1 / (1 + Math.exp(-lg[i])) > 0.5 ? 1 : 0;
                }
            }
            for (int s = 0; s < n; s++) for (int i = 0; i < tok; i++) tokenSelect[(s * L + l) * tok + i] = (float) keep[s * tok + i];
            double[] u2 = lnMod(h, n, tok, d, ada, 6 * d, 3 * d, 4 * d);
            double[] f1 = linear(u2, n * tok, d, p(b + "mlp.fc1.weight"), p(b + "mlp.fc1.bias"), m);
            int gs = m / heads;
            for (int i = 0; i < f1.length; i++) f1[i] = mm[(i % m) / gs] ? gelu(f1[i]) : 0; // group mask after fc1
            double[] f2 = linear(f1, n * tok, m, p(b + "mlp.fc2.weight"), p(b + "mlp.fc2.bias"), d);
            for (int s = 0; s < n; s++)
                for (int i = 0; i < tok * d; i++)
                    h[s * tok * d + i] += keep[s * tok + i / d] * ada[s * 6 * d + 5 * d + i % d] * f2[s * tok * d + i];
        }
        double[] fa = linear(cs, n, d, p("final_layer.adaLN_modulation.1.weight"), p("final_layer.adaLN_modulation.1.bias"),
                2 * d);
        double[] u = lnMod(h, n, tok, d, fa, 2 * d, 0, d);
        int co = c.outChannels();
        double[] ft = linear(u, n * tok, d, p("final_layer.linear.weight"), p("final_layer.linear.bias"), pp * pp * co);
        double[] out = new double[n * co * c.inputSize() * c.inputSize()];
        for (int s = 0; s < n; s++)
            for (int i = 0; i < g; i++)
                for (int j = 0; j < g; j++)
                    for (int a = 0; a < pp; a++)
                        for (int b2 = 0; b2 < pp; b2++)
                            for (int q = 0; q < co; q++)
                                out[((s * co + q) * c.inputSize() + i * pp + a) * c.inputSize() + j * pp + b2] =
                                        ft[(s * tok + i * g + j) * pp * pp * co + (a * pp + b2) * co + q];
        return out;
    }

    private static boolean[] all(int n) {
        boolean[] b = new boolean[n];
        java.util.Arrays.fill(b, true);
        return b;
    }
}
