package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import java.util.Arrays;

/**
 * FlexiDiT weights at a larger patch size q (a multiple of the native p dividing the input size), from
 * explicit flexi.q{q}.* tensors or derived from the native ones at load time: the embedder by PI-resize
 * (vec(w_q) = pinv(B^T) vec(w_p)), the de-embedder by upsampling each output patch with B, where B
 * [q*q, p*p] is bilinear resizing (half-pixel centres, no antialiasing); the position embedding is the
 * DiT sin-cos formula at the coarse patch centres, plus the patch-size embedding when present.
 */
final class FlexiWeights {
    private FlexiWeights() {}

    static PatchGeometry load(TensorFile f, DiTConfig c, int q, Device dev, Scope scope) {
        int p = c.patchSize();
        if (q <= p || q % p != 0 || c.inputSize() % q != 0) {
            throw new InvalidArgumentException("patch size " + q + " must be a multiple of the native " + p
                    + " that divides the input size " + c.inputSize());
        }
        int d = c.hiddenSize(), ch = c.inChannels(), co = c.outChannels(), g = c.inputSize() / q;
        double[][] b = bilinear(p, q);
        String pre = "flexi.q" + q + ".";
        float[] pw, pb, fw, fb;
        if (f.contains(pre + "x_embedder.proj.weight")) {
            pw = explicit(f, pre + "x_embedder.proj.weight", d, ch, q, q);
            pb = explicit(f, pre + "x_embedder.proj.bias", d);
        } else {
            pw = piResizeEmbedding(f.get("x_embedder.proj.weight").toFloatArray(), d * ch, b, p, q);
            pb = f.get("x_embedder.proj.bias").toFloatArray();
        }
        if (f.contains(pre + "final_layer.linear.weight")) {
            fw = explicit(f, pre + "final_layer.linear.weight", (long) q * q * co, d);
            fb = explicit(f, pre + "final_layer.linear.bias", (long) q * q * co);
        } else {
            fw = upsampleDeEmbedding(f.get("final_layer.linear.weight").toFloatArray(), d, co, b, p, q);
            fb = upsampleDeEmbedding(f.get("final_layer.linear.bias").toFloatArray(), 1, co, b, p, q);
        }
        float[] pos = PosEmbed.sinCos2d(d, g, q / p);
        if (f.contains(pre + "patch_embed")) {
            float[] e = explicit(f, pre + "patch_embed", d);
            for (int i = 0; i < pos.length; i++) pos[i] += e[i % d];
        }
        return new PatchGeometry(q, g, scope.of(dev, pw, d, (long) ch * q * q), scope.of(dev, pb, d),
                scope.of(dev, pos, (long) g * g, d), scope.of(dev, fw, (long) q * q * co, d),
                scope.of(dev, fb, (long) q * q * co));
    }

    private static float[] explicit(TensorFile f, String name, long... shape) {
        StoredTensor t = f.get(name);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new ShapeMismatchException("tensor '" + name + "' in " + f.source() + " has shape "
                    + Arrays.toString(t.shape()) + ", expected " + Arrays.toString(shape));
        }
        return t.toFloatArray();
    }

    /** B [q*q][p*p]: column (a',b') is the one-hot p x p image resized to q x q, rows (a,b) row-major. */
    static double[][] bilinear(int p, int q) {
        double[][] w = new double[q][p]; // 1-D weights: output o from input i
        double scale = (double) p / q;
        for (int o = 0; o < q; o++) {
            double src = Math.max(scale * (o + 0.5) - 0.5, 0.0);
            int i0 = (int) src;
            int i1 = i0 < p - 1 ? i0 + 1 : i0;
            double l1 = src - i0;
            w[o][i0] += 1 - l1;
            w[o][i1] += l1;
        }
        double[][] b = new double[q * q][p * p];
        for (int a = 0; a < q; a++)
            for (int bb = 0; bb < q; bb++)
                for (int a2 = 0; a2 < p; a2++)
                    for (int b2 = 0; b2 < p; b2++)
                        b[a * q + bb][a2 * p + b2] = w[a][a2] * w[bb][b2];
        return b;
    }

    /** vec(w_q) = pinv(B^T) vec(w_p) = B (B^T B)^-1 vec(w_p) for each of {@code filters} p x p kernels. */
    static float[] piResizeEmbedding(float[] wp, int filters, double[][] b, int p, int q) {
        int pp = p * p, qq = q * q;
        double[][] g = new double[pp][pp];
        for (int i = 0; i < pp; i++)
            for (int j = 0; j < pp; j++)
                for (int r = 0; r < qq; r++) g[i][j] += b[r][i] * b[r][j];
        double[][] gi = invert(g);
        float[] wq = new float[filters * qq];
        for (int fi = 0; fi < filters; fi++) {
            double[] v = new double[pp];
            for (int i = 0; i < pp; i++)
                for (int j = 0; j < pp; j++) v[i] += gi[i][j] * wp[fi * pp + j];
            for (int r = 0; r < qq; r++) {
                double s = 0;
                for (int i = 0; i < pp; i++) s += b[r][i] * v[i];
                wq[fi * qq + r] = (float) s;
            }
        }
        return wq;
    }

    /** Rows (a,b,ch) of the p-size de-embedder upsampled per channel: W_q[(a,b,ch)] = sum B[(a,b),(a',b')] W_p[(a',b',ch)]. */
    static float[] upsampleDeEmbedding(float[] wp, int cols, int co, double[][] b, int p, int q) {
        int pp = p * p, qq = q * q;
        float[] wq = new float[qq * co * cols];
        for (int r = 0; r < qq; r++)
            for (int ch = 0; ch < co; ch++)
                for (int col = 0; col < cols; col++) {
                    double s = 0;
                    for (int i = 0; i < pp; i++) s += b[r][i] * wp[(i * co + ch) * cols + col];
                    wq[(r * co + ch) * cols + col] = (float) s;
                }
        return wq;
    }

    /** Gauss-Jordan inverse with partial pivoting (p*p <= 64 here). */
    static double[][] invert(double[][] a) {
        int n = a.length;
        double[][] m = new double[n][2 * n];
        for (int i = 0; i < n; i++) {
            System.arraycopy(a[i], 0, m[i], 0, n);
            m[i][n + i] = 1;
        }
        for (int col = 0; col < n; col++) {
            int piv = col;
            for (int r = col + 1; r < n; r++) if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) piv = r;
            double[] tmp = m[col];
            m[col] = m[piv];
            m[piv] = tmp;
            double d = m[col][col];
            if (Math.abs(d) < 1e-12) {
                throw new IllegalStateException("singular bilinear Gram matrix");
            }
            for (int j = 0; j < 2 * n; j++) m[col][j] /= d;
            for (int r = 0; r < n; r++) {
                if (r != col && m[r][col] != 0) {
                    double fct = m[r][col];
                    for (int j = 0; j < 2 * n; j++) m[r][j] -= fct * m[col][j];
                }
            }
        }
        double[][] inv = new double[n][n];
        for (int i = 0; i < n; i++) System.arraycopy(m[i], n, inv[i], 0, n);
        return inv;
    }
}
