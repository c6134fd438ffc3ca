package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Scope;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorNotFoundException;
import java.util.Arrays;

/**
 * DiffCR's token routers (blocks.{i}.diffcr_router.weight [1,D], no bias) and keep ratios (diffcr.ratios
 * [L,R]: per block and timestep region). Region of model timestep t: min(R-1, t*R/1000) in integers;
 * k = max(1, ceil(ratio * T)).
 *
 * <p>Thread-safety: read-only after loading, so forwards on many threads may use it at once; close it only when no
 * forward uses it (the model that loaded it does).
 */
public final class DiffCRRouters implements AutoCloseable {
    private final Scope scope = Scope.open();
    public final Tensor[] router; // [1, D] per block
    public final float[][] ratios; // [L][R]

    private DiffCRRouters(TensorFile f, DiTConfig c, Device dev) {
        try {
            StoredTensor r = f.get("diffcr.ratios");
            long[] rs = r.shape();
            if (rs.length != 2 || rs[0] != c.depth() || rs[1] < 1) {
                throw new ShapeMismatchException("tensor 'diffcr.ratios' in " + f.source() + " has shape " + Arrays.toString(rs)
                        + ", expected [" + c.depth() + ", R] (one row per block, R >= 1 timestep regions)");
            }
            float[] flat = r.toFloatArray();
            ratios = new float[c.depth()][(int) rs[1]];
            for (int i = 0; i < c.depth(); i++) {
                for (int j = 0; j < rs[1]; j++) {
                    float v = flat[(int) (i * rs[1] + j)];
                    if (!(v > 0f && v <= 1f)) {
                        throw new InvalidArgumentException("tensor 'diffcr.ratios' in " + f.source() + ": entry [" + i + ", " + j
                                + "] = " + v + " outside (0, 1]");
                    }
                    ratios[i][j] = v;
                }
            }
            router = new Tensor[c.depth()];
            for (int i = 0; i < c.depth(); i++) {
                String name = "blocks." + i + ".diffcr_router.weight";
                if (!f.contains(name)) {
                    throw new TensorNotFoundException(name, f.source() + " (DiffCR needs a router in every block)");
                }
                StoredTensor w = f.get(name);
                if (!Arrays.equals(w.shape(), new long[] {1, c.hiddenSize()})) {
                    throw new ShapeMismatchException("tensor '" + name + "' in " + f.source() + " has shape "
                            + Arrays.toString(w.shape()) + ", expected [1, " + c.hiddenSize() + "]");
                }
                router[i] = scope.of(dev, w.toFloatArray(), 1, c.hiddenSize());
            }
        } catch (RuntimeException | Error e) { // what was allocated so far is freed
            scope.close();
            throw e;
        }
    }

    /** The routers when the checkpoint has DiffCR tensors, else null. */
    public static DiffCRRouters loadIfPresent(TensorFile f, DiTConfig c, Device dev) {
        boolean any = f.contains("diffcr.ratios");
        for (String n : f.names()) {
            any |= n.endsWith(".diffcr_router.weight");
        }
        if (!any) {
            return null;
        }
        if (!f.contains("diffcr.ratios")) {
            throw new TensorNotFoundException("diffcr.ratios", f.source() + " (DiffCR routers without keep ratios)");
        }
        return new DiffCRRouters(f, c, dev);
    }

    /** Timestep region of original-scale timestep t. */
    public int region(long t) {
        int r = ratios[0].length;
        return (int) Math.min(r - 1, Math.min(Math.max(0, t), 1000) * r / 1000); // t clamped: no overflow of t * r
    }

    /** Tokens kept by block {@code layer} at timestep t out of {@code tokens}. */
    public int keep(int layer, long t, int tokens) {
        double k = Math.ceil((double) ratios[layer][region(t)] * tokens);
        return (int) Math.max(1, Math.min(tokens, k));
    }

    @Override
    public void close() {
        scope.close();
    }
}
