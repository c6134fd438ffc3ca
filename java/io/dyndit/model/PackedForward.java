package io.dyndit.model;

import io.dyndit.core.Ops;
import io.dyndit.core.Tensor;

/**
 * One network evaluation over two token sequences per sample of different lengths (FlexiDiT's conditional
 * branch at patch pc and guidance branch at pu): tokens packed back to back, GEMMs over all rows,
 * block-diagonal attention over cu_seqlens, no padding. Static plan (every head, group and token).
 */
final class PackedForward {
    private static final float LN_EPS = 1e-6f;

    private final DiTConfig c;
    private final DiTWeights w;

    PackedForward(DiTConfig config, DiTWeights weights) {
        this.c = config;
        this.w = weights;
    }

    /** ws.x, ws.t, ws.y set; fills ws.outC and ws.outU; returns executed MACs. */
    double run(PackedWorkspace ws) {
        io.dyndit.core.Ranges.push("forward (packed varlen)");
        try {
            return runBlocks(ws);
        } finally {
            io.dyndit.core.Ranges.pop();
        }
    }

    private double runBlocks(PackedWorkspace ws) {
        embed(ws, ws.gc, ws.patchesC, ws.hc);
        embed(ws, ws.gu, ws.patchesU, ws.hu);
        Ops.timestepEmbedding(ws.t, 10000f, ws.tFreq);
        Ops.linear(ws.tFreq, w.t0W, w.t0B, ws.t1);
        Ops.silu(ws.t1, ws.t1);
        Ops.linear(ws.t1, w.t2W, w.t2B, ws.c);
        Ops.gatherRows(w.labelTable, ws.y, ws.yEmb);
        Ops.gatedResidualAdd(ws.c3, null, ws.yEmb3);
        Ops.silu(ws.c, ws.cSilu);
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        // every block's adaLN for both branches as one GEMV (the blocks' weights back to back, DiTWeights.adaAllW)
        Ops.linear(ws.cSilu, w.adaAllW, w.adaAllB, ws.adaAll);
        for (int i = 0; i < w.blocks.length; i++) {
            DiTWeights.Block b = w.blocks[i];
            Tensor[] ac = ws.adaC[i], au = ws.adaU[i];
            Ops.layerNormModulate(ws.hc, ac[0], ac[1], LN_EPS, ws.uc);
            Ops.layerNormModulate(ws.hu, au[0], au[1], LN_EPS, ws.uu);
            Ops.linear(ws.u, b.qkvW(), b.qkvB(), ws.qkv);
            io.dyndit.core.Ranges.push("attention (varlen)");
            Ops.attentionVarlen(ws.q, ws.k, ws.v, ws.cuSeqlens, scale, ws.attn);
            io.dyndit.core.Ranges.pop();
            // the gated residuals in the GEMMs' epilogues (CUDA; the CPU runs the separate ops, bit for bit), once
            // per branch: each has its own tokens per sample and its own gates
            Ops.linearGatedResidual(ws.attnC, b.projW(), b.projB(), ac[2], ws.hc);
            Ops.linearGatedResidual(ws.attnU, b.projW(), b.projB(), au[2], ws.hu);
            Ops.layerNormModulate(ws.hc, ac[3], ac[4], LN_EPS, ws.uc);
            Ops.layerNormModulate(ws.hu, au[3], au[4], LN_EPS, ws.uu);
            Ops.linearGelu(ws.u, b.fc1W(), b.fc1B(), ws.fc1);
            Ops.linearGatedResidual(ws.fc1C, b.fc2W(), b.fc2B(), ac[5], ws.hc);
            Ops.linearGatedResidual(ws.fc1U, b.fc2W(), b.fc2B(), au[5], ws.hu);
        }
        Ops.linear(ws.cSilu, w.finalAdaW, w.finalAdaB, ws.finalAda);
        finish(ws.gc, ws.hc, ws.uc, ws.finalC, ws.tokensC, ws.outC);
        finish(ws.gu, ws.hu, ws.uu, ws.finalU, ws.tokensU, ws.outU);
        return macs(ws);
    }

    private void embed(PackedWorkspace ws, PatchGeometry g, io.dyndit.core.Tensor patches, io.dyndit.core.Tensor h) {
        Ops.patchify(ws.x, g.patch(), patches);
        Ops.linear(patches, g.patchW(), g.patchB(), h);
        Ops.addBroadcast(h, g.pos());
    }

    private static void finish(PatchGeometry g, io.dyndit.core.Tensor h, io.dyndit.core.Tensor u, io.dyndit.core.Tensor[] ada,
            io.dyndit.core.Tensor tokens, io.dyndit.core.Tensor out) {
        Ops.layerNormModulate(h, ada[0], ada[1], LN_EPS, u);
        Ops.linear(u, g.finalW(), g.finalB(), tokens);
        Ops.unpatchify(tokens, g.patch(), out);
    }

    private double macs(PackedWorkspace ws) {
        double d = c.hiddenSize(), m = c.mlpHidden(), n = ws.n;
        double total = 0;
        for (PatchGeometry g : new PatchGeometry[] {ws.gc, ws.gu}) {
            double t = g.tokens(), pp = (double) g.patch() * g.patch();
            total += n * t * d * c.inChannels() * pp + n * t * d * pp * c.outChannels();
            total += c.depth() * (n * t * (4 * d * d + 2 * d * m) + n * 2 * t * t * d);
        }
        return total + 2 * n * (256 * d + d * d + c.depth() * 6 * d * d + 2 * d * d);
    }
}
