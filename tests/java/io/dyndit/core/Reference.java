package io.dyndit.core;

/** Naive double-precision references for the ops (row-major arrays, PyTorch semantics). */
final class Reference {
    private Reference() {}

    /** y[m][n] = sum_k x[m][k] w[n][k] + b[n]. */
    static double[] linear(float[] x, float[] w, float[] b, int m, int n, int k) {
        double[] y = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = b == null ? 0 : b[j];
                for (int q = 0; q < k; q++) {
                    s += (double) x[i * k + q] * w[j * k + q];
                }
                y[i * n + j] = s;
            }
        }
        return y;
    }

    /** LayerNorm (biased variance, no affine) then modulate with per-sample shift/scale rows (nullable). */
    static double[] layerNormModulate(float[] x, float[] shift, float[] scale, int n, int t, int d, double eps) {
        double[] y = new double[n * t * d];
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < t; b++) {
                int row = (a * t + b) * d;
                double mean = 0;
                for (int i = 0; i < d; i++) mean += x[row + i];
                mean /= d;
                double var = 0;
                for (int i = 0; i < d; i++) var += (x[row + i] - mean) * (x[row + i] - mean);
                var /= d;
                double rstd = 1 / Math.sqrt(var + eps);
                for (int i = 0; i < d; i++) {
                    double v = (x[row + i] - mean) * rstd;
                    if (scale != null) v *= 1 + scale[a * d + i];
                    if (shift != null) v += shift[a * d + i];
                    y[row + i] = v;
                }
            }
        }
        return y;
    }

    static double geluTanh(double x) {
        return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    }

    static double silu(double x) {
        return x / (1 + Math.exp(-x));
    }

    /** o[n][t][h][:] = softmax_s(q.k * scale) v, q/k/v/o as dense [N,T,H,Dh]. */
    static double[] attention(float[] q, float[] k, float[] v, int n, int t, int h, int dh, double scale) {
        double[] o = new double[n * t * h * dh];
        double[] s = new double[t];
        for (int a = 0; a < n; a++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < t; i++) {
                    double mx = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int d = 0; d < dh; d++) {
                            dot += (double) q[((a * t + i) * h + hh) * dh + d] * k[((a * t + j) * h + hh) * dh + d];
                        }
                        s[j] = dot * scale;
                        mx = Math.max(mx, s[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j < t; j++) {
                        s[j] = Math.exp(s[j] - mx);
                        sum += s[j];
                    }
                    for (int d = 0; d < dh; d++) {
                        double acc = 0;
                        for (int j = 0; j < t; j++) acc += s[j] * v[((a * t + j) * h + hh) * dh + d];
                        o[((a * t + i) * h + hh) * dh + d] = acc / sum;
                    }
                }
            }
        }
        return o;
    }

    /** m[n][j] = (1/H) sum_h sum_i softmax_j(q_i . k_j * scale), q/k dense [N,T,H,Dh]: each key's attention mass. */
    static double[] attentionKeyMass(float[] q, float[] k, int n, int t, int h, int dh, double scale) {
        double[] m = new double[n * t];
        double[] s = new double[t];
        for (int a = 0; a < n; a++) {
            for (int hh = 0; hh < h; hh++) {
                for (int i = 0; i < t; i++) {
                    double mx = Double.NEGATIVE_INFINITY, sum = 0;
                    for (int j = 0; j < t; j++) {
                        double dot = 0;
                        for (int d = 0; d < dh; d++) {
                            dot += (double) q[((a * t + i) * h + hh) * dh + d] * k[((a * t + j) * h + hh) * dh + d];
                        }
                        s[j] = dot * scale;
                        mx = Math.max(mx, s[j]);
                    }
                    for (int j = 0; j < t; j++) {
                        s[j] = Math.exp(s[j] - mx);
                        sum += s[j];
                    }
                    for (int j = 0; j < t; j++) m[a * t + j] += s[j] / sum / h;
                }
            }
        }
        return m;
    }
}
