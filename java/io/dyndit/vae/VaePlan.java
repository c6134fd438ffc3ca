package io.dyndit.vae;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Ops;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;
import io.dyndit.core.VaeOps;
import java.util.ArrayList;
import java.util.List;

/**
 * The decoder compiled for one tile shape [samples, latent h, latent w]: every buffer allocated once, every view
 * created once, the forward a list of native op calls. Activations rotate through three buffers sized for the
 * largest stage (a resnet needs its input, a normalised copy and conv1's output alive at once); the attention's
 * packed qkv gets its own. Nothing is allocated per decode.
 */
final class VaePlan implements AutoCloseable {
    private record Step(String capture, Runnable op, Tensor output) {}

    private final Scope scope = Scope.open();
    private final VaeConfig config;
    private final Device device;
    private final List<Step> steps = new ArrayList<>();
    private final Tensor[] buffers = new Tensor[3];
    private int current;  // the buffer holding the live activation while steps are being planned

    final int samples, latentH, latentW;
    final Tensor input;   // [n, zc, h, w]: decoder_in (already divided by scaling_factor)
    final Tensor image;   // [n, out_channels, H, W]

    VaePlan(VaeWeights w, VaeConfig c, Device device, int samples, int latentH, int latentW) {
        this.config = c;
        this.device = device;
        this.samples = samples;
        this.latentH = latentH;
        this.latentW = latentW;
        try {
            long largest = largestActivation(c, samples, latentH, latentW);
            for (int i = 0; i < buffers.length; i++) {
                buffers[i] = scope.empty(device, DType.F32, largest);
            }
            input = scope.empty(device, DType.F32, samples, c.latentChannels(), latentH, latentW);
            image = scope.empty(device, DType.F32, samples, c.outChannels(), (long) latentH * c.upscale(),
                    (long) latentW * c.upscale());
            plan(w);
        } catch (RuntimeException e) {
            scope.close();
            throw e;
        }
    }

    /** Elements of the biggest activation of the forward: sizes the rotating buffers. */
    static long largestActivation(VaeConfig c, long n, long h, long w) {
        long max = (long) c.innerWidth() * h * w;
        for (int i = 0; i < c.levels(); i++) {
            max = Math.max(max, (long) Math.max(c.upBlockIn(i), c.upBlockOut(i)) * h * w);
            if (i < c.levels() - 1) {
                h *= 2;
                w *= 2;
                max = Math.max(max, (long) c.upBlockOut(i) * h * w);
            }
        }
        return n * max;
    }

    /** Runs the forward on {@link #input}, leaving the result in {@link #image}. */
    void run(VaeObserver observer, int firstSample) {
        for (Step s : steps) {
            s.op.run();
            if (s.capture != null) {
                observer.stage(s.capture, firstSample, s.output);
            }
        }
    }

    private void plan(VaeWeights w) {
        VaeConfig c = config;
        long h = latentH, wd = latentW;
        Tensor x = input;
        if (w.postQuantConv != null) {
            Tensor pq = scope.empty(device, DType.F32, samples, c.latentChannels(), h, wd);
            Tensor in = x;
            VaeWeights.Conv pqc = w.postQuantConv;
            step("post_quant_conv_out", () -> VaeOps.conv2d(in, pqc.weight(), pqc.bias(), null, pq), pq);
            x = pq;
        }
        current = 0;
        Tensor convIn = act(current, c.innerWidth(), h, wd);
        Tensor latent = x;
        step("conv_in_out", () -> VaeOps.conv2d(latent, w.convIn.weight(), w.convIn.bias(), null, convIn), convIn);
        resnet(w.mid0, h, wd, "mid_resnet0_out");
        if (w.midAttention != null) {
            attention(w.midAttention, h, wd);
        }
        resnet(w.mid1, h, wd, "mid_block_out");
        for (int i = 0; i < w.upBlocks.size(); i++) {
            VaeWeights.UpBlock b = w.upBlocks.get(i);
            for (int j = 0; j < b.resnets().size(); j++) {
                boolean last = j == b.resnets().size() - 1 && b.upsampler() == null;
                resnet(b.resnets().get(j), h, wd, last ? "up_block_" + i + "_out" : null);
            }
            if (b.upsampler() != null) {
                upsample(b.upsampler(), c.upBlockOut(i), h, wd, "up_block_" + i + "_out");
                h *= 2;
                wd *= 2;
            }
        }
        Tensor last = act(current, c.width(0), h, wd);
        Tensor normed = act(next(1), c.width(0), h, wd);
        step("norm_out_act_out", () -> VaeOps.groupNorm(last, w.normOut.gamma(), w.normOut.beta(), c.normNumGroups(),
                VaeConfig.NORM_EPS, true, normed), normed);
        step("image", () -> VaeOps.conv2d(normed, w.convOut.weight(), w.convOut.bias(), null, image), image);
    }

    /** ResnetBlock2D: out = shortcut(x) + conv2(SiLU(GN(conv1(SiLU(GN(x)))))), output in the next buffer. */
    private void resnet(VaeWeights.Resnet r, long h, long w, String capture) {
        int g = config.normNumGroups();
        int a = next(1), b = next(2);
        Tensor x = act(current, r.in(), h, w);
        Tensor t = act(a, r.in(), h, w);
        Tensor h1 = act(b, r.out(), h, w);
        Tensor out = act(a, r.out(), h, w);  // t is dead once conv1 has read it
        step(null, () -> VaeOps.groupNorm(x, r.norm1().gamma(), r.norm1().beta(), g, VaeConfig.NORM_EPS, true, t), t);
        step(null, () -> VaeOps.conv2d(t, r.conv1().weight(), r.conv1().bias(), null, h1), h1);
        step(null, () -> VaeOps.groupNorm(h1, r.norm2().gamma(), r.norm2().beta(), g, VaeConfig.NORM_EPS, true, h1), h1);
        if (r.shortcut() != null) {
            step(null, () -> VaeOps.conv2d(x, r.shortcut().weight(), r.shortcut().bias(), null, out), out);
            step(capture, () -> VaeOps.conv2d(h1, r.conv2().weight(), r.conv2().bias(), out, out), out);
        } else {
            step(capture, () -> VaeOps.conv2d(h1, r.conv2().weight(), r.conv2().bias(), x, out), out);
        }
        current = a;
    }

    /**
     * Single-head attention over the h*w tokens: GroupNorm, NCHW -> tokens, one GEMM for q|k|v, softmax attention
     * with scale C^-0.5, output Linear, back to NCHW plus the un-normalised input.
     */
    private void attention(VaeWeights.Attention at, long h, long w) {
        int c = at.channels();
        long tokens = h * w;
        int a = next(1), b = next(2);
        Tensor x = act(current, c, h, w);
        Tensor xFlat = act(current, c, tokens);
        Tensor normed = act(a, c, h, w);
        Tensor normedFlat = act(a, c, tokens);
        Tensor tok = act(b, tokens, c);
        Tensor qkv = scope.empty(device, DType.F32, samples, tokens, 3L * c);
        long[] headShape = {samples, tokens, 1, c};
        long[] qkvStrides = {tokens * 3 * c, 3L * c, c, 1};
        Tensor q = scope.track(qkv.view(headShape, qkvStrides, 0));
        Tensor k = scope.track(qkv.view(headShape, qkvStrides, c));
        Tensor v = scope.track(qkv.view(headShape, qkvStrides, 2L * c));
        Tensor o = act(b, tokens, 1, c);      // tok is dead once the qkv GEMM has read it
        Tensor oFlat = act(b, tokens, c);
        Tensor proj = act(a, tokens, c);      // normed is dead once transposed
        Tensor out = act(b, c, tokens);       // o is dead once projected
        Tensor out4 = act(b, c, h, w);
        float scale = (float) (1.0 / Math.sqrt(c));
        step(null, () -> VaeOps.groupNorm(x, at.norm().gamma(), at.norm().beta(), config.normNumGroups(),
                VaeConfig.NORM_EPS, false, normed), normed);
        step(null, () -> VaeOps.transposeLast2(normedFlat, null, tok), tok);
        step(null, () -> Ops.linear(tok, at.qkvWeight(), at.qkvBias(), qkv), qkv);
        step(null, () -> Ops.attention(q, k, v, scale, o), o);
        step(null, () -> Ops.linear(oFlat, at.outWeight(), at.outBias(), proj), proj);
        step("mid_attn_out", () -> VaeOps.transposeLast2(proj, xFlat, out), out4);
        current = b;
    }

    /** Upsample2D: nearest 2x, then a 3x3 conv. */
    private void upsample(VaeWeights.Conv conv, int c, long h, long w, String capture) {
        int a = next(1), b = next(2);
        Tensor x = act(current, c, h, w);
        Tensor up = act(a, c, 2 * h, 2 * w);
        Tensor out = act(b, c, 2 * h, 2 * w);
        step(null, () -> VaeOps.upsampleNearest2x(x, up), up);
        step(capture, () -> VaeOps.conv2d(up, conv.weight(), conv.bias(), null, out), out);
        current = b;
    }

    private int next(int k) {
        return (current + k) % buffers.length;
    }

    /** A dense view [samples, dims...] at the start of rotating buffer {@code buffer}. */
    private Tensor act(int buffer, long... dims) {
        long[] shape = new long[dims.length + 1];
        shape[0] = samples;
        System.arraycopy(dims, 0, shape, 1, dims.length);
        long[] strides = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = s;
            s *= shape[i];
        }
        return scope.track(buffers[buffer].view(shape, strides, 0));
    }

    private void step(String capture, Runnable op, Tensor output) {
        steps.add(new Step(capture, op, output));
    }

    @Override
    public void close() {
        scope.close();
    }
}
