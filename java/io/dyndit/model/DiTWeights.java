package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * DiT parameters in native memory under the official key names, shape-checked against the config.
 *
 * <p>Thread-safety: read-only after loading, so forwards on many threads may use it at once; close it only when no
 * forward uses it (the model that loaded it does).
 */
public final class DiTWeights implements AutoCloseable {
    /** One adaLN-Zero block's parameters (PyTorch Linear layout [out, in]). */
    public record Block(Tensor qkvW, Tensor qkvB, Tensor projW, Tensor projB, Tensor fc1W, Tensor fc1B, Tensor fc2W,
            Tensor fc2B, Tensor adaW, Tensor adaB) {}

    private final Scope scope = Scope.open();
    public final Tensor posEmbed;   // [T, D]
    public final Tensor patchW;     // [D, C*p*p], the conv kernel as a matrix over (c, a, b)
    public final Tensor patchB;
    public final Tensor t0W, t0B, t2W, t2B;
    public final Tensor labelTable; // [num_classes (+1), D]
    public final Block[] blocks;
    public final Tensor finalAdaW, finalAdaB, finalW, finalB;
    /**
     * Every block's adaLN weights [depth * 6D, D] and biases [depth * 6D], block i's at rows i * 6D: one GEMV per
     * forward computes all blocks' modulation (each {@link Block#adaW()} / {@link Block#adaB()} is a view of these).
     */
    public final Tensor adaAllW, adaAllB;

    private final TensorFile file;
    private final Device device;

    private DiTWeights(TensorFile file, DiTConfig c, Device device) {
        try {
            this.file = file;
            this.device = device;
            long d = c.hiddenSize(), p = c.patchSize(), ch = c.inChannels(), m = c.mlpHidden();
            posEmbed = load("pos_embed", new long[] {1, c.tokens(), d}, c.tokens(), d);
            patchW = load("x_embedder.proj.weight", new long[] {d, ch, p, p}, d, ch * p * p);
            patchB = load("x_embedder.proj.bias", new long[] {d});
            t0W = load("t_embedder.mlp.0.weight", new long[] {d, 256});
            t0B = load("t_embedder.mlp.0.bias", new long[] {d});
            t2W = load("t_embedder.mlp.2.weight", new long[] {d, d});
            t2B = load("t_embedder.mlp.2.bias", new long[] {d});
            labelTable = load("y_embedder.embedding_table.weight", new long[] {c.labelTableRows(), d});
            blocks = new Block[c.depth()];
            adaAllW = scope.empty(device, DType.F32, c.depth() * 6 * d, d);
            adaAllB = scope.empty(device, DType.F32, c.depth() * 6 * d);
            for (int i = 0; i < blocks.length; i++) {
                String b = "blocks." + i + ".";
                blocks[i] = new Block(load(b + "attn.qkv.weight", new long[] {3 * d, d}), load(b + "attn.qkv.bias", new long[] {3 * d}),
                        load(b + "attn.proj.weight", new long[] {d, d}), load(b + "attn.proj.bias", new long[] {d}),
                        load(b + "mlp.fc1.weight", new long[] {m, d}), load(b + "mlp.fc1.bias", new long[] {m}),
                        load(b + "mlp.fc2.weight", new long[] {d, m}), load(b + "mlp.fc2.bias", new long[] {d}),
                        loadInto(b + "adaLN_modulation.1.weight", new long[] {6 * d, d},
                                scope.track(adaAllW.narrow(0, i * 6 * d, 6 * d))),
                        loadInto(b + "adaLN_modulation.1.bias", new long[] {6 * d},
                                scope.track(adaAllB.narrow(0, i * 6 * d, 6 * d))));
            }
            long out = p * p * c.outChannels();
            finalAdaW = load("final_layer.adaLN_modulation.1.weight", new long[] {2 * d, d});
            finalAdaB = load("final_layer.adaLN_modulation.1.bias", new long[] {2 * d});
            finalW = load("final_layer.linear.weight", new long[] {out, d});
            finalB = load("final_layer.linear.bias", new long[] {out});
        } catch (RuntimeException | Error e) { // what was allocated so far is freed
            scope.close();
            throw e;
        }
    }

    /** Copies every parameter of {@code cfg} from {@code file} to {@code device}; the file may be closed afterwards. */
    public static DiTWeights load(TensorFile file, DiTConfig cfg, Device device) {
        device.checkAvailable();
        return new DiTWeights(file, cfg, device);
    }

    /** Loads {@code name}, checks it has {@code expected} shape, stores it as {@code as} (default: the same). */
    private Tensor load(String name, long[] expected, long... as) {
        return loadInto(name, expected, scope.empty(device, DType.F32, as.length == 0 ? expected : as));
    }

    private void checkShape(String name, long[] expected) {
        StoredTensor s = file.get(name);
        if (!Arrays.equals(s.shape(), expected)) {
            throw new ShapeMismatchException("tensor '" + name + "' in " + file.source() + " has shape "
                    + Arrays.toString(s.shape()) + ", expected " + Arrays.toString(expected));
        }
    }

    /** Loads {@code name} of shape {@code expected} into {@code t} (contiguous, as many elements); returns t. */
    private Tensor loadInto(String name, long[] expected, Tensor t) {
        checkShape(name, expected);
        StoredTensor s = file.get(name);
        if (s.dtype() == io.dyndit.core.DType.F32) {
            t.copyFrom(s.data());
        } else if (s.dtype().isFloatingPoint()) {
            float[] f = s.toFloatArray();
            ByteBuffer b = ByteBuffer.allocate(4 * f.length).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(f);
            t.copyFrom(b);
        } else {
            throw new io.dyndit.core.DTypeMismatchException("tensor '" + name + "' in " + file.source() + " has dtype "
                    + s.dtype() + ", expected a floating-point type");
        }
        return t;
    }

    @Override
    public void close() {
        scope.close();
    }
}
