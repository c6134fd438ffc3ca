package io.dyndit.vae;

import io.dyndit.core.DType;
import io.dyndit.core.DTypeMismatchException;
import io.dyndit.core.Device;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.model.ModelConfigException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The decoder path of an AutoencoderKL checkpoint (post_quant_conv.*, decoder.*) in native f32 memory, every
 * tensor shape-checked against the config. The attention's q/k/v Linear weights are stacked into one [3C, C]
 * matrix (one GEMM). The load is strict: decoder tensors the config does not use are an error, since they mean
 * the config does not describe this checkpoint.
 */
final class VaeWeights implements AutoCloseable {
    record Conv(Tensor weight, Tensor bias) {}

    record Norm(Tensor gamma, Tensor beta) {}

    /** ResnetBlock2D: shortcut (1x1 conv) only when the width changes. */
    record Resnet(int in, int out, Norm norm1, Conv conv1, Norm norm2, Conv conv2, Conv shortcut) {}

    record Attention(int channels, Norm norm, Tensor qkvWeight, Tensor qkvBias, Tensor outWeight, Tensor outBias) {}

    /** UpDecoderBlock2D: L+1 resnets, then (all but the last block) nearest-2x and a 3x3 conv. */
    record UpBlock(List<Resnet> resnets, Conv upsampler) {}

    private final Scope scope;
    private final VaeKeys keys;
    private final Device device;

    final Conv postQuantConv;  // null when the config has none
    final Conv convIn;
    final Resnet mid0;
    final Attention midAttention;  // null when the config has none
    final Resnet mid1;
    final List<UpBlock> upBlocks = new ArrayList<>();
    final Norm normOut;
    final Conv convOut;

    private VaeWeights(TensorFile file, VaeConfig c, Device device, Scope scope) {
        this.scope = scope;
        this.keys = VaeKeys.of(file);
        this.device = device;
        int zc = c.latentChannels(), inner = c.innerWidth();
        postQuantConv = c.usePostQuantConv() ? conv("post_quant_conv", zc, zc, 1) : null;
        convIn = conv("decoder.conv_in", inner, zc, 3);
        mid0 = resnet("decoder.mid_block.resnets.0", inner, inner);
        midAttention = c.midBlockAttention() ? attention("decoder.mid_block.attentions.0", inner) : null;
        mid1 = resnet("decoder.mid_block.resnets.1", inner, inner);
        for (int i = 0; i < c.levels(); i++) {
            String b = "decoder.up_blocks." + i;
            int out = c.upBlockOut(i);
            List<Resnet> resnets = new ArrayList<>();
            for (int j = 0; j <= c.layersPerBlock(); j++) {
                resnets.add(resnet(b + ".resnets." + j, j == 0 ? c.upBlockIn(i) : out, out));
            }
            Conv up = i < c.levels() - 1 ? conv(b + ".upsamplers.0.conv", out, out, 3) : null;
            upBlocks.add(new UpBlock(List.copyOf(resnets), up));
        }
        normOut = norm("decoder.conv_norm_out", c.width(0));
        convOut = conv("decoder.conv_out", c.outChannels(), c.width(0), 3);
        List<String> unused = keys.unusedDecoderTensors();
        if (!unused.isEmpty()) {
            throw new ModelConfigException(unused.size() + " decoder tensor(s) of " + file.source()
                    + " are not part of the configured structure (block_out_channels " + c.blockOutChannels()
                    + ", layers_per_block " + c.layersPerBlock() + "), e.g. '" + unused.get(0)
                    + "': the config does not match the checkpoint");
        }
    }

    /** Copies the decoder of {@code file} to {@code device}; the file may be closed afterwards. */
    static VaeWeights load(TensorFile file, VaeConfig config, Device device) {
        device.checkAvailable();
        Scope scope = Scope.open();
        try {
            return new VaeWeights(file, config, device, scope);
        } catch (RuntimeException e) {
            scope.close();  // what a failed load had already copied
            throw e;
        }
    }

    private Conv conv(String name, int out, int in, int k) {
        return new Conv(param(name + ".weight", out, in, k, k), param(name + ".bias", out));
    }

    private Norm norm(String name, int channels) {
        return new Norm(param(name + ".weight", channels), param(name + ".bias", channels));
    }

    private Resnet resnet(String name, int in, int out) {
        return new Resnet(in, out, norm(name + ".norm1", in), conv(name + ".conv1", out, in, 3), norm(name + ".norm2", out),
                conv(name + ".conv2", out, out, 3), in != out ? conv(name + ".conv_shortcut", out, in, 1) : null);
    }

    private Attention attention(String name, int c) {
        float[] qkv = new float[3 * c * c];
        float[] qkvBias = new float[3 * c];
        String[] parts = {"to_q", "to_k", "to_v"};
        for (int s = 0; s < 3; s++) {
            System.arraycopy(linearWeight(name + "." + parts[s] + ".weight", c), 0, qkv, s * c * c, c * c);
            System.arraycopy(values(name + "." + parts[s] + ".bias", c), 0, qkvBias, s * c, c);
        }
        return new Attention(c, norm(name + ".group_norm", c), native2(qkv, 3L * c, c), native2(qkvBias, 3L * c),
                native2(linearWeight(name + ".to_out.0.weight", c), c, c), param(name + ".to_out.0.bias", c));
    }

    /** A Linear weight [C, C]; CompVis stores it as a 1x1 conv [C, C, 1, 1], the same numbers. */
    private float[] linearWeight(String key, int c) {
        StoredTensor s = keys.get(key);
        long[] shape = s.shape();
        if (!Arrays.equals(shape, new long[] {c, c}) && !Arrays.equals(shape, new long[] {c, c, 1, 1})) {
            throw mismatch(key, shape, "[" + c + ", " + c + "] (or [" + c + ", " + c + ", 1, 1])");
        }
        return floats(key, s);
    }

    private float[] values(String key, long... expected) {
        StoredTensor s = keys.get(key);
        if (!Arrays.equals(s.shape(), expected)) {
            throw mismatch(key, s.shape(), Arrays.toString(expected));
        }
        return floats(key, s);
    }

    private Tensor param(String key, long... expected) {
        StoredTensor s = keys.get(key);
        if (!Arrays.equals(s.shape(), expected)) {
            throw mismatch(key, s.shape(), Arrays.toString(expected));
        }
        Tensor t = track(Tensor.empty(device, DType.F32, expected));
        if (s.dtype() == io.dyndit.core.DType.F32) {
            t.copyFrom(s.data());
        } else {
            t.copyFrom(littleEndian(floats(key, s)));
        }
        return t;
    }

    private Tensor native2(float[] values, long... shape) {
        Tensor t = track(Tensor.empty(device, DType.F32, shape));
        t.copyFrom(values);
        return t;
    }

    private Tensor track(Tensor t) {
        return scope.track(t);
    }

    private float[] floats(String key, StoredTensor s) {
        if (!s.dtype().isFloatingPoint()) {
            throw new DTypeMismatchException("tensor '" + key + "' in " + keys.source() + " has dtype " + s.dtype()
                    + ", expected a floating-point type");
        }
        return s.toFloatArray();
    }

    private ShapeMismatchException mismatch(String key, long[] actual, String expected) {
        return new ShapeMismatchException("tensor '" + key + "' in " + keys.source() + " has shape "
                + Arrays.toString(actual) + ", expected " + expected + " for the VAE config");
    }

    private static ByteBuffer littleEndian(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b;
    }

    @Override
    public void close() {
        scope.close();
    }
}
