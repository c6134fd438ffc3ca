package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.InvalidArgumentException;
import io.dyndit.core.Ops;
import io.dyndit.core.ShapeMismatchException;
import io.dyndit.core.Tensor;
import io.dyndit.io.TensorFile;
import io.dyndit.io.TensorFiles;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * A DiT loaded once and called many times: the official forward (models.py) and forward_with_cfg. Buffers
 * are planned once per batch size and reused; close() frees all native memory.
 */
public final class DiTModel implements AutoCloseable {
    private static final float LN_EPS = 1e-6f;

    private final DiTConfig config;
    private final DiTWeights weights;
    private final Device device;
    private final Map<Integer, ForwardWorkspace> workspaces = new HashMap<>();

    private DiTModel(DiTConfig config, DiTWeights weights, Device device) {
        this.config = config;
        this.weights = weights;
        this.device = device;
    }

    /** Loads a safetensors or PyTorch .pt checkpoint; config from JSON when given, else inferred from the shapes. */
    public static DiTModel load(Path weightsFile, Path configJson, Device device) {
        try (TensorFile f = TensorFiles.open(weightsFile)) {
            DiTConfig cfg = configJson != null ? DiTConfig.fromJson(configJson) : DiTConfig.infer(f);
            return load(f, cfg, device);
        }
    }

    public static DiTModel load(TensorFile file, DiTConfig config, Device device) {
        return new DiTModel(config, DiTWeights.load(file, config, device), device);
    }

    public DiTConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** model(x, t, y): x [N,C,I,I] row-major, t [N] original-scale timesteps, y [N] labels; returns [N,Co,I,I]. */
    public float[] forward(float[] x, float[] t, long[] y) {
        return forward(x, t, y, ForwardObserver.NONE);
    }

    public float[] forward(float[] x, float[] t, long[] y, ForwardObserver observer) {
        int n = t.length;
        ForwardWorkspace ws = workspace(n, x, y);
        ws.x.copyFrom(x);
        ws.t.copyFrom(t);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = (int) y[i];
        }
        ws.y.copyFrom(labels);
        run(ws, observer);
        return ws.out.toFloatArray();
    }

    /**
     * forward_with_cfg: the first half of x is used for both halves (the second half is ignored), y holds
     * [labels; null labels], guidance uncond + s (cond - uncond) on output channels 0..2 only.
     */
    public float[] forwardWithCfg(float[] x, float[] t, long[] y, double scale) {
        int n2 = t.length;
        if (n2 % 2 != 0) {
            throw new InvalidArgumentException("forward_with_cfg needs an even batch ([cond; uncond]), got " + n2);
        }
        int per = x.length / Math.max(1, n2);
        float[] combined = x.clone();
        System.arraycopy(x, 0, combined, (n2 / 2) * per, (n2 / 2) * per);
        float[] out = forward(combined, t, y);
        Guidance.combineFirstChannels(out, n2 / 2, config.outChannels(), config.inputSize() * config.inputSize(),
                Math.min(3, config.outChannels()), (float) scale);
        return out;
    }

    private ForwardWorkspace workspace(int n, float[] x, long[] y) {
        long per = (long) config.inChannels() * config.inputSize() * config.inputSize();
        if (n <= 0) {
            throw new InvalidArgumentException("batch is empty");
        }
        if (x.length != n * per) {
            throw new ShapeMismatchException("latent x has " + x.length + " values, expected " + n * per + " = [" + n + ","
                    + config.inChannels() + "," + config.inputSize() + "," + config.inputSize() + "]");
        }
        if (y.length != n) {
            throw new ShapeMismatchException("labels y has " + y.length + " entries, expected " + n + " (one per sample)");
        }
        for (int i = 0; i < n; i++) {
            if (y[i] < 0 || y[i] >= config.labelTableRows()) {
                throw new InvalidArgumentException("label y[" + i + "] = " + y[i] + " outside [0, " + config.labelTableRows()
                        + ")" + (config.hasNullClass() ? " (null class = " + config.numClasses() + ")" : " (no null class)"));
            }
        }
        return workspaces.computeIfAbsent(n, b -> new ForwardWorkspace(config, device, b));
    }

    private void run(ForwardWorkspace ws, ForwardObserver obs) {
        DiTWeights w = weights;
        // embeddings
        Ops.patchify(ws.x, config.patchSize(), ws.patches);
        Ops.linear(ws.patches, w.patchW, w.patchB, ws.h);
        obs.onTensor("patch_embed", ws.h);
        Ops.addBroadcast(ws.h, w.posEmbed);
        obs.onTensor("x_tokens", ws.h);
        Ops.timestepEmbedding(ws.t, 10000f, ws.tFreq);
        obs.onTensor("t_freq", ws.tFreq);
        Ops.linear(ws.tFreq, w.t0W, w.t0B, ws.t1);
        Ops.silu(ws.t1, ws.t1);
        Ops.linear(ws.t1, w.t2W, w.t2B, ws.c);
        obs.onTensor("t_emb", ws.c);
        Ops.gatherRows(w.labelTable, ws.y, ws.yEmb);
        obs.onTensor("y_emb", ws.yEmb);
        Ops.gatedResidualAdd(ws.c3, null, ws.yEmb3);
        Ops.silu(ws.c, ws.cSilu);
        float scale = (float) (1.0 / Math.sqrt(config.headDim()));
        for (int i = 0; i < w.blocks.length; i++) {
            DiTWeights.Block b = w.blocks[i];
            String name = "block." + i + ".";
            Ops.linear(ws.cSilu, b.adaW(), b.adaB(), ws.ada);
            obs.onTensor(name + "adaLN", ws.ada);
            Tensor[] a = ws.adaChunks;
            Ops.layerNormModulate(ws.h, a[0], a[1], LN_EPS, ws.u);
            Ops.linear(ws.u, b.qkvW(), b.qkvB(), ws.qkv);
            Ops.attention(ws.q, ws.k, ws.v, scale, ws.attn);
            Ops.linear(ws.attnFlat, b.projW(), b.projB(), ws.proj);
            obs.onTensor(name + "attn_out", ws.proj);
            Ops.gatedResidualAdd(ws.h, a[2], ws.proj);
            Ops.layerNormModulate(ws.h, a[3], a[4], LN_EPS, ws.u);
            Ops.linear(ws.u, b.fc1W(), b.fc1B(), ws.fc1);
            Ops.geluTanh(ws.fc1, ws.fc1);
            Ops.linear(ws.fc1, b.fc2W(), b.fc2B(), ws.fc2);
            obs.onTensor(name + "mlp_out", ws.fc2);
            Ops.gatedResidualAdd(ws.h, a[5], ws.fc2);
            obs.onTensor(name + "out", ws.h);
        }
        Ops.linear(ws.cSilu, w.finalAdaW, w.finalAdaB, ws.finalAda);
        obs.onTensor("final.adaLN", ws.finalAda);
        Ops.layerNormModulate(ws.h, ws.finalShift, ws.finalScale, LN_EPS, ws.u);
        Ops.linear(ws.u, w.finalW, w.finalB, ws.finalTokens);
        obs.onTensor("final_tokens", ws.finalTokens);
        Ops.unpatchify(ws.finalTokens, config.patchSize(), ws.out);
    }

    /** This model as the sampling loop's denoiser (static DiT: every step runs the whole network). */
    public io.dyndit.sampling.Denoiser denoiser() {
        DiTModel self = this;
        return new io.dyndit.sampling.Denoiser() {
            @Override
            public Evaluation evaluate(float[] x, long[] y, int step, long modelTimestep, double cfgScale) {
                float[] t = new float[y.length];
                java.util.Arrays.fill(t, modelTimestep);
                float[] out = cfgScale == 1.0 ? self.forward(x, t, y) : self.forwardWithCfg(x, t, y, cfgScale);
                return new Evaluation(out, DiTMacs.total(config) * y.length);
            }

            @Override
            public int inChannels() {
                return config.inChannels();
            }

            @Override
            public int inputSize() {
                return config.inputSize();
            }

            @Override
            public int outChannels() {
                return config.outChannels();
            }

            @Override
            public long nullClass() {
                return config.hasNullClass() ? config.numClasses() : -1;
            }

            @Override
            public double staticMacsPerSample() {
                return DiTMacs.total(config);
            }
        };
    }

    @Override
    public void close() {
        for (ForwardWorkspace ws : workspaces.values()) {
            ws.close();
        }
        workspaces.clear();
        weights.close();
    }
}
