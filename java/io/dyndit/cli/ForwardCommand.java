package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTModel;
import java.io.PrintStream;
import java.util.Set;

/** `dyndit forward`: one model evaluation on tensors from a safetensors file, written to another. */
final class ForwardCommand implements Main.Command {
    private static final String USAGE = "dyndit forward --weights FILE(.safetensors|.pt) [--config FILE.json] "
            + "--inputs FILE.safetensors --out FILE.safetensors [--prefix P] [--cfg-scale S] [--static] [--patch-size Q] "
            + "[--flexi-guided --cond-patch P --guidance-patch Q --cfg-scale S [--weak-cfg-scale W]] "
            + "[--device cpu|cuda|cuda-emu] [--precision tf32|fp32|bf16]";

    @Override
    public String summary() {
        return "run the model on <P>x, <P>t, <P>y from --inputs and write `out` (with --cfg-scale: guided)";
    }

    @Override
    public int run(String[] argv, PrintStream out, PrintStream err) throws UsageException {
        Args a = new Args(argv, Set.of("--weights", "--config", "--inputs", "--out", "--prefix", "--cfg-scale", "--device", "--precision",
                "--patch-size", "--cond-patch", "--guidance-patch", "--weak-cfg-scale"), Set.of("--static", "--flexi-guided"),
                USAGE);
        boolean flexiGuided = a.flag("--flexi-guided");
        if (flexiGuided && !a.has("--cfg-scale")) {
            throw new UsageException("--flexi-guided needs --cfg-scale\nusage: " + USAGE);
        }
        Device device = Device.parse(a.get("--device", "cpu"));
        io.dyndit.core.Precision precision = io.dyndit.core.Precision.parse(a.get("--precision", "tf32"));
        String p = a.get("--prefix", "");
        float[] x;
        float[] t;
        long[] y;
        long[] xShape;
        try (TensorFile in = TensorFiles.open(a.path("--inputs"))) {
            StoredTensor xs = in.get(p + "x");
            xShape = xs.shape();
            if (xShape.length != 4) {
                throw new ShapeMismatchException("tensor '" + p + "x' in " + in.source() + " has rank " + xShape.length
                        + ", expected [N,C,I,I]");
            }
            x = xs.toFloatArray();
            StoredTensor ts = in.get(p + "t");
            t = ts.dtype().isFloatingPoint() ? ts.toFloatArray() : toFloats(ts.toLongArray());
            y = in.get(p + (flexiGuided ? "labels" : "y")).toLongArray();
            if (t.length != xShape[0]) {
                throw new ShapeMismatchException("tensor '" + p + "t' has " + t.length + " entries, x has batch " + xShape[0]);
            }
        }
        try (DiTModel model = DiTModel.load(a.path("--weights"), io.dyndit.model.ModelOptions.builder()
                .config(a.optionalPath("--config")).device(device).staticModel(a.flag("--static")).build())) {
            model.precision(precision);
            var c = model.config();
            if (xShape[1] != c.inChannels() || xShape[2] != c.inputSize() || xShape[3] != c.inputSize()) {
                throw new ShapeMismatchException("latent '" + p + "x' has shape [" + xShape[0] + "," + xShape[1] + ","
                        + xShape[2] + "," + xShape[3] + "], the model expects [N," + c.inChannels() + "," + c.inputSize() + ","
                        + c.inputSize() + "]");
            }
            DiTModel.Result r;
            if (flexiGuided) {
                r = model.forwardFlexiGuided(x, t, y, a.integer("--cond-patch", c.patchSize()),
                        a.integer("--guidance-patch", 2 * c.patchSize()), a.number("--cfg-scale", 1),
                        a.number("--weak-cfg-scale", Double.NaN));
            } else if (a.has("--patch-size")) {
                if (a.has("--cfg-scale")) {
                    throw new UsageException("--patch-size runs the plain forward; for guidance use --flexi-guided");
                }
                r = new DiTModel.Result(model.forwardAtPatch(x, t, y, a.integer("--patch-size", c.patchSize())), null, 0,
                        new double[0], new double[0], 0);
            } else {
                r = a.has("--cfg-scale") ? model.forwardWithCfgDetailed(x, t, y, a.number("--cfg-scale", 1))
                        : model.forwardDetailed(x, t, y, io.dyndit.model.ForwardObserver.NONE);
            }
            long n = xShape[0], l = c.depth();
            SafetensorsWriter w = new SafetensorsWriter()
                    .addFloats("out", new long[] {n, c.outChannels(), c.inputSize(), c.inputSize()}, r.out());
            if (r.trace() != null) { // DyDiT decisions, laid out as the official forward returns them
                w.addFloats("attn_masks", new long[] {n, l, c.numHeads()}, r.trace().attnMasks)
                        .addFloats("mlp_masks", new long[] {n, l, c.numHeads()}, r.trace().mlpMasks)
                        .addFloats("token_select", new long[] {n, l, c.tokens(), 1}, r.trace().tokenSelect);
            }
            w.write(a.path("--out"));
        }
        return 0;
    }

    private static float[] toFloats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}
