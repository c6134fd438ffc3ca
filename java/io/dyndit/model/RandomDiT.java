package io.dyndit.model;

import java.util.SplittableRandom;

/**
 * A DiT checkpoint with random weights under the official names (for benchmarks and tests): weights
 * uniform with std 1/sqrt(fan_in), biases std 0.1, label table std 0.5, pos_embed the official sin-cos.
 *
 * <p>Thread-safety: as {@link io.dyndit.io.MapTensorFile}: safe to read from many threads once no longer edited; put
 * and remove are not thread-safe.
 */
public final class RandomDiT extends io.dyndit.io.MapTensorFile {

    public RandomDiT(DiTConfig c, long seed) {
        super("random DiT weights (seed " + seed + ")");
        SplittableRandom r = new SplittableRandom(seed);
        long d = c.hiddenSize(), p = c.patchSize(), m = c.mlpHidden();
        put("pos_embed", PosEmbed.sinCos2d((int) d, c.gridSize()), 1, c.tokens(), d);
        weight(r, "x_embedder.proj", c.inChannels() * p * p, d, c.inChannels(), p, p);
        weight(r, "t_embedder.mlp.0", 256, d, 256);
        weight(r, "t_embedder.mlp.2", d, d, d);
        put("y_embedder.embedding_table.weight", uniform(r, c.labelTableRows() * d, 0.5), c.labelTableRows(), d);
        for (int i = 0; i < c.depth(); i++) {
            String b = "blocks." + i + ".";
            weight(r, b + "attn.qkv", d, 3 * d, d);
            weight(r, b + "attn.proj", d, d, d);
            weight(r, b + "mlp.fc1", d, m, d);
            weight(r, b + "mlp.fc2", m, d, m);
            weight(r, b + "adaLN_modulation.1", d, 6 * d, d);
        }
        weight(r, "final_layer.adaLN_modulation.1", d, 2 * d, d);
        weight(r, "final_layer.linear", d, p * p * c.outChannels(), d);
    }

    /** weight [out, in...] with std 1/sqrt(fanIn) and bias [out] with std 0.1. */
    private void weight(SplittableRandom r, String name, long fanIn, long out, long... inShape) {
        long[] shape = new long[inShape.length + 1];
        shape[0] = out;
        System.arraycopy(inShape, 0, shape, 1, inShape.length);
        put(name + ".weight", uniform(r, out * fanIn, 1 / Math.sqrt(fanIn)), shape);
        put(name + ".bias", uniform(r, out, 0.1), out);
    }

    private static float[] uniform(SplittableRandom r, long n, double std) {
        float[] a = new float[Math.toIntExact(n)];
        double half = std * Math.sqrt(3); // uniform on [-h, h] has std h / sqrt(3)
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * half);
        }
        return a;
    }

    /** Adds or replaces one tensor (e.g. DyDiT routers on top of the DiT weights). */
    @Override
    public RandomDiT put(String name, float[] v, long... shape) {
        super.put(name, v, shape);
        return this;
    }

    /** Drops one tensor (tests of incomplete checkpoints). */
    @Override
    public RandomDiT remove(String name) {
        super.remove(name);
        return this;
    }
}
