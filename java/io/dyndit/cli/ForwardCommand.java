package io.dyndit.cli;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.io.SafetensorsWriter;
import io.dyndit.io.StoredTensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import io.dyndit.model.DiTModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** `dyndit forward`: one model evaluation on tensors from a safetensors file, written to another. */
@Command(name = "forward", sortOptions = false,
        description = "Run the model on <P>x, <P>t, <P>y from --inputs and write `out` (with --cfg-scale: guided).")
final class ForwardCommand extends CliCommand {
    @Option(names = "--weights", required = true, paramLabel = "FILE", description = "checkpoint (.safetensors or .pt)")
    Path weights;

    @Option(names = "--config", paramLabel = "FILE", description = "model config JSON (default: inferred from the tensors)")
    Path config;

    @Option(names = "--inputs", required = true, paramLabel = "FILE", description = "safetensors with <P>x, <P>t, <P>y")
    Path inputs;

    @Option(names = "--out", required = true, paramLabel = "FILE", description = "safetensors to write (`out`, DyDiT masks)")
    Path out;

    @Option(names = "--prefix", paramLabel = "P", defaultValue = "", description = "prefix of the input tensor names")
    String prefix;

    @Option(names = "--cfg-scale", paramLabel = "S", description = "classifier-free guidance scale (default: no guidance)")
    Double cfgScale;

    @Option(names = "--static", description = "DyDiT/DiffCR checkpoints: run the complete model, routers off")
    boolean staticModel;

    @Option(names = "--patch-size", paramLabel = "Q", description = "FlexiDiT: plain forward at patch size Q")
    Integer patchSize;

    @Option(names = "--flexi-guided", description = "FlexiDiT guided forward (needs --cfg-scale; reads <P>labels)")
    boolean flexiGuided;

    @Option(names = "--cond-patch", paramLabel = "P", description = "--flexi-guided: patch of the conditional half")
    Integer condPatch;

    @Option(names = "--guidance-patch", paramLabel = "Q", description = "--flexi-guided: patch of the guidance half")
    Integer guidancePatch;

    @Option(names = "--weak-cfg-scale", paramLabel = "W", description = "--flexi-guided: weak-model guidance scale")
    Double weakCfgScale;

    @picocli.CommandLine.Mixin
    DeviceOptions devices;

    @Override
    public Integer call() throws UsageException {
        if (flexiGuided && cfgScale == null) {
            throw new UsageException("--flexi-guided needs --cfg-scale");
        }
        if (!flexiGuided && patchSize != null && cfgScale != null) {
            throw new UsageException("--patch-size runs the plain forward; for guidance use --flexi-guided");
        }
        FileChecks.readable(weights);
        FileChecks.readable(config);
        FileChecks.readable(inputs);
        FileChecks.writableFile(out);

        String p = prefix;
        float[] x;
        float[] t;
        long[] y;
        long[] xShape;
        try (TensorFile in = TensorFiles.open(inputs)) {
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
        SafetensorsWriter w;
        List<String> written = new ArrayList<>();
        try (DiTModel model = ModelLoading.dit(weights, config, devices.device, staticModel)) {
            model.precision(devices.precision);
            var c = model.config();
            if (xShape[1] != c.inChannels() || xShape[2] != c.inputSize() || xShape[3] != c.inputSize()) {
                throw new ShapeMismatchException("latent '" + p + "x' has shape [" + xShape[0] + "," + xShape[1] + ","
                        + xShape[2] + "," + xShape[3] + "], the model expects [N," + c.inChannels() + "," + c.inputSize() + ","
                        + c.inputSize() + "]");
            }
            DiTModel.Result r;
            if (flexiGuided) {
                r = model.forwardFlexiGuided(x, t, y, condPatch != null ? condPatch : c.patchSize(),
                        guidancePatch != null ? guidancePatch : 2 * c.patchSize(), cfgScale,
                        weakCfgScale != null ? weakCfgScale : Double.NaN);
            } else if (patchSize != null) {
                r = new DiTModel.Result(model.forwardAtPatch(x, t, y, patchSize), null, 0, new double[0], new double[0],
                        0);
            } else {
                r = cfgScale != null ? model.forwardWithCfgDetailed(x, t, y, cfgScale)
                        : model.forwardDetailed(x, t, y, io.dyndit.model.ForwardObserver.NONE);
            }
            long n = xShape[0], l = c.depth();
            w = new SafetensorsWriter();
            add(w, written, "out", new long[] {n, c.outChannels(), c.inputSize(), c.inputSize()}, r.out());
            if (r.trace() != null) { // DyDiT decisions, laid out as the official forward returns them
                add(w, written, "attn_masks", new long[] {n, l, c.numHeads()}, r.trace().attnMasks);
                add(w, written, "mlp_masks", new long[] {n, l, c.numHeads()}, r.trace().mlpMasks);
                add(w, written, "token_select", new long[] {n, l, c.tokens(), 1}, r.trace().tokenSelect);
            }
        }
        OutputFiles.safetensors(out, w);
        console.info("wrote %s: %s", out, String.join(", ", written));
        return Main.OK;
    }

    private static void add(SafetensorsWriter w, List<String> names, String name, long[] shape, float[] values) {
        w.addFloats(name, shape, values);
        names.add(name + " " + Arrays.toString(shape).replace(" ", ""));
    }

    private static float[] toFloats(long[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            f[i] = v[i];
        }
        return f;
    }
}
