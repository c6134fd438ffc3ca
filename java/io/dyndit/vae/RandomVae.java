package io.dyndit.vae;

import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A diffusers-named AutoencoderKL decoder with random weights (benchmarks, memory checks, tests), drawn like the
 * golden cases: conv/linear weights with std 1/sqrt(fan_in), biases std 0.1, GroupNorm gamma 1 +- 0.1, beta
 * std 0.1 (uniform draws). Tensors are generated on each get() from a per-name seed, so the full-size SD decoder
 * (49.5M parameters) never sits in the Java heap as a whole.
 *
 * <p>Thread-safety: immutable after construction; get() draws each tensor from a per-name seed, so reads from many
 * threads are safe.
 */
public final class RandomVae implements TensorFile {
    private enum Kind { WEIGHT, BIAS, GAMMA, BETA }

    private record Spec(long[] shape, Kind kind, long fanIn) {}

    private final Map<String, Spec> specs = new LinkedHashMap<>();
    private final long seed;

    public RandomVae(VaeConfig c, long seed) {
        this.seed = seed;
        int zc = c.latentChannels(), inner = c.innerWidth();
        if (c.usePostQuantConv()) {
            conv("post_quant_conv", zc, zc, 1);
        }
        conv("decoder.conv_in", inner, zc, 3);
        resnet("decoder.mid_block.resnets.0", inner, inner);
        if (c.midBlockAttention()) {
            String a = "decoder.mid_block.attentions.0.";
            norm(a + "group_norm", inner);
            for (String part : new String[] {"to_q", "to_k", "to_v", "to_out.0"}) {
                specs.put(a + part + ".weight", new Spec(new long[] {inner, inner}, Kind.WEIGHT, inner));
                specs.put(a + part + ".bias", new Spec(new long[] {inner}, Kind.BIAS, 0));
            }
        }
        resnet("decoder.mid_block.resnets.1", inner, inner);
        for (int i = 0; i < c.levels(); i++) {
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                int in = j == 0 ? c.upBlockIn(i) : c.upBlockOut(i);
                resnet("decoder.up_blocks." + i + ".resnets." + j, in, c.upBlockOut(i));
            }
            if (i < c.levels() - 1) {
                conv("decoder.up_blocks." + i + ".upsamplers.0.conv", c.upBlockOut(i), c.upBlockOut(i), 3);
            }
        }
        norm("decoder.conv_norm_out", c.width(0));
        conv("decoder.conv_out", c.outChannels(), c.width(0), 3);
    }

    /** Number of parameters. */
    public long parameterCount() {
        long n = 0;
        for (Spec s : specs.values()) {
            n += count(s.shape);
        }
        return n;
    }

    private void conv(String name, int out, int in, int k) {
        specs.put(name + ".weight", new Spec(new long[] {out, in, k, k}, Kind.WEIGHT, (long) in * k * k));
        specs.put(name + ".bias", new Spec(new long[] {out}, Kind.BIAS, 0));
    }

    private void norm(String name, int c) {
        specs.put(name + ".weight", new Spec(new long[] {c}, Kind.GAMMA, 0));
        specs.put(name + ".bias", new Spec(new long[] {c}, Kind.BETA, 0));
    }

    private void resnet(String name, int in, int out) {
        norm(name + ".norm1", in);
        conv(name + ".conv1", out, in, 3);
        norm(name + ".norm2", out);
        conv(name + ".conv2", out, out, 3);
        if (in != out) {
            conv(name + ".conv_shortcut", out, in, 1);
        }
    }

    @Override
    public String source() {
        return "random VAE decoder weights (seed " + seed + ")";
    }

    @Override
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(specs.keySet()));
    }

    @Override
    public boolean contains(String name) {
        return specs.containsKey(name);
    }

    @Override
    public StoredTensor get(String name) {
        Spec s = specs.get(name);
        if (s == null) {
            throw new TensorNotFoundException(name, source());
        }
        SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + name.hashCode());
        float[] v = new float[Math.toIntExact(count(s.shape))];
        double std = switch (s.kind) {
            case WEIGHT -> 1 / Math.sqrt(s.fanIn);
            default -> 0.1;
        };
        double half = std * Math.sqrt(3);  // uniform on [-half, half] has this std
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) ((s.kind == Kind.GAMMA ? 1 : 0) + (r.nextDouble() * 2 - 1) * half);
        }
        return StoredTensor.ofFloats(name, s.shape, v);
    }

    @Override
    public Map<String, String> metadata() {
        return Map.of();
    }

    @Override
    public void close() {}

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }
}
