package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import java.util.Arrays;

/**
 * DyDiT's per-block routers: head and MLP-group routers on the timestep embedding (v1: one output per
 * head; v2: heads - 1 outputs, head/group 0 always on) and the token router on the residual stream.
 *
 * <p>Thread-safety: read-only after loading, so forwards on many threads may use it at once; close it only when no
 * forward uses it (the model that loaded it does).
 */
public final class DyDiTRouters implements AutoCloseable {
    public enum Variant { V1, V2 }

    private final Scope scope = Scope.open();
    public final Variant variant;
    public final int rows;        // router outputs: H (v1) or H - 1 (v2)
    public final int tokenHidden; // D / 16
    public final Tensor[] attnW, attnB, mlpW, mlpB, tok0W, tok0B, tok2W, tok2B;

    private DyDiTRouters(TensorFile f, DiTConfig c, Device dev) {
        try {
            int depth = c.depth(), d = c.hiddenSize(), h = c.numHeads();
            long[] first = f.get("blocks.0.attn_rate.router.weight").shape();
            if (first.length != 2 || first[1] != d || (first[0] != h && first[0] != h - 1)) {
                throw new ShapeMismatchException("tensor 'blocks.0.attn_rate.router.weight' in " + f.source() + " has shape "
                        + Arrays.toString(first) + ", expected [" + h + ", " + d + "] (DyDiT v1) or [" + (h - 1) + ", " + d
                        + "] (v2)");
            }
            if (c.mlpHidden() % h != 0) {
                throw new ModelConfigException("DyDiT needs the MLP width " + c.mlpHidden() + " divisible by num_heads " + h);
            }
            rows = (int) first[0];
            variant = rows == h ? Variant.V1 : Variant.V2;
            tokenHidden = d / 16;
            attnW = new Tensor[depth];
            attnB = new Tensor[depth];
            mlpW = new Tensor[depth];
            mlpB = new Tensor[depth];
            tok0W = new Tensor[depth];
            tok0B = new Tensor[depth];
            tok2W = new Tensor[depth];
            tok2B = new Tensor[depth];
            for (int i = 0; i < depth; i++) {
                String b = "blocks." + i + ".";
                attnW[i] = load(f, dev, b + "attn_rate.router.weight", rows, d);
                attnB[i] = load(f, dev, b + "attn_rate.router.bias", rows);
                mlpW[i] = load(f, dev, b + "mlp_rate.router.weight", rows, d);
                mlpB[i] = load(f, dev, b + "mlp_rate.router.bias", rows);
                tok0W[i] = load(f, dev, b + "token_selection.mlp_head.0.weight", tokenHidden, d);
                tok0B[i] = load(f, dev, b + "token_selection.mlp_head.0.bias", tokenHidden);
                tok2W[i] = load(f, dev, b + "token_selection.mlp_head.2.weight", 1, tokenHidden);
                tok2B[i] = load(f, dev, b + "token_selection.mlp_head.2.bias", 1);
            }
        } catch (RuntimeException | Error e) { // what was allocated so far is freed
            scope.close();
            throw e;
        }
    }

    /** The routers when the checkpoint has them (any router key present), else null. */
    public static DyDiTRouters loadIfPresent(TensorFile f, DiTConfig c, Device dev) {
        boolean any = false;
        for (String n : f.names()) {
            if (n.contains(".attn_rate.") || n.contains(".mlp_rate.") || n.contains(".token_selection.")) {
                any = true;
                break;
            }
        }
        if (!any) {
            return null;
        }
        if (!f.contains("blocks.0.attn_rate.router.weight")) {
            throw new TensorNotFoundException("blocks.0.attn_rate.router.weight", f.source()
                    + " (a DyDiT checkpoint needs every router of every block)");
        }
        DyDiTRouters r = new DyDiTRouters(f, c, dev);
        return r;
    }

    private Tensor load(TensorFile f, Device dev, String name, long... shape) {
        if (!f.contains(name)) {
            throw new TensorNotFoundException(name, f.source() + " (a DyDiT checkpoint needs every router of every block)");
        }
        StoredTensor s = f.get(name);
        if (!Arrays.equals(s.shape(), shape)) {
            throw new ShapeMismatchException("tensor '" + name + "' in " + f.source() + " has shape "
                    + Arrays.toString(s.shape()) + ", expected " + Arrays.toString(shape) + " (DyDiT " + variant() + ")");
        }
        Tensor t = scope.empty(dev, DType.F32, shape);
        t.copyFrom(java.nio.ByteBuffer.wrap(toBytes(s)).order(java.nio.ByteOrder.LITTLE_ENDIAN));
        return t;
    }

    private String variant() {
        return variant == null ? "" : variant.name().toLowerCase();
    }

    private static byte[] toBytes(StoredTensor s) {
        float[] v = s.toFloatArray();
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * v.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    @Override
    public void close() {
        scope.close();
    }
}
