package io.dyndit.model;

import java.util.SplittableRandom;

/**
 * DyDiT routers with set decisions on top of random DiT weights (benchmarks and engine tests): head and
 * group routers have zero weights and biases +-4, so exactly the first {@code keepHeads} heads and
 * {@code keepGroups} groups run at every timestep (v2 counts its always-on unit 0); the token router is
 * random with output bias {@code tokenBias} (large negative: no token runs the MLP, large positive: all).
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class RandomDyDiT {
    private RandomDyDiT() {}

    public static RandomDiT create(DiTConfig c, boolean v2, int keepHeads, int keepGroups, double tokenBias, long seed) {
        RandomDiT f = new RandomDiT(c, seed);
        SplittableRandom r = new SplittableRandom(seed ^ 0x5DEECE66DL);
        int h = c.numHeads(), d = c.hiddenSize(), rows = v2 ? h - 1 : h, hid = d / 16;
        for (int i = 0; i < c.depth(); i++) {
            String b = "blocks." + i + ".";
            f.put(b + "attn_rate.router.weight", new float[rows * d], rows, d);
            f.put(b + "attn_rate.router.bias", biases(rows, v2 ? keepHeads - 1 : keepHeads), rows);
            f.put(b + "mlp_rate.router.weight", new float[rows * d], rows, d);
            f.put(b + "mlp_rate.router.bias", biases(rows, v2 ? keepGroups - 1 : keepGroups), rows);
            f.put(b + "token_selection.mlp_head.0.weight", uniform(r, hid * d, 1 / Math.sqrt(d)), hid, d);
            f.put(b + "token_selection.mlp_head.0.bias", uniform(r, hid, 0.1), hid);
            f.put(b + "token_selection.mlp_head.2.weight", uniform(r, hid, 1 / Math.sqrt(hid)), 1, hid);
            f.put(b + "token_selection.mlp_head.2.bias", new float[] {(float) tokenBias}, 1);
        }
        return f;
    }

    private static float[] biases(int rows, int on) {
        float[] b = new float[rows];
        for (int j = 0; j < rows; j++) {
            b[j] = j < on ? 4f : -4f;
        }
        return b;
    }

    private static float[] uniform(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        double half = std * Math.sqrt(3);
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * half);
        }
        return a;
    }
}
