package io.dyndit.model;

import io.dyndit.core.Ops;
import io.dyndit.core.Precision;
import io.dyndit.core.Ranges;
import io.dyndit.core.Tensor;
import io.dyndit.plan.LayerPlan;
import io.dyndit.plan.StepPlan;

/**
 * The DiT forward written once, obeying a step plan: full blocks, width-sliced blocks (only active heads
 * and MLP groups are computed, weights read in place) and routed blocks (only kept tokens run the MLP,
 * gathered across the batch into one ragged set and scatter-added back with the gate).
 */
final class ForwardPass {
    private static final float LN_EPS = 1e-6f;

    private final DiTConfig c;
    private final DiTWeights w;
    private final DyDiTRouters routers; // null: no DyDiT token routing
    private final DiffCRRouters diffcr;  // null: no top-k routing
    /** Whether a token-routed MLP that keeps every token runs densely (no gather / scatter); tests compare both. */
    static volatile boolean denseWhenAllKept = true;
    private final GemmControl gemm;
    private final String[] blockRanges;   // profiler range names, built once

    ForwardPass(DiTConfig config, DiTWeights weights, DyDiTRouters routers, DiffCRRouters diffcr, GemmControl gemm) {
        this.gemm = gemm;
        this.blockRanges = new String[config.depth()];
        for (int i = 0; i < blockRanges.length; i++) {
            blockRanges[i] = "block " + i;
        }
        this.c = config;
        this.w = weights;
        this.routers = routers;
        this.diffcr = diffcr;
        this.attnMacs = new double[config.depth()];
        this.mlpMacs = new double[config.depth()];
    }

    /** Executed multiply-accumulates of the last run, per block. */
    final double[] attnMacs, mlpMacs;

    /** Runs the network on ws inputs; returns executed multiply-accumulates (per block in attnMacs/mlpMacs). */
    double run(ForwardWorkspace ws, StepPlan plan, ForwardObserver obs, DynamicTrace trace) {
        return run(ws, plan, obs, trace, null);
    }

    /** As run, with a step or block cache of the generation (null: none). */
    double run(ForwardWorkspace ws, StepPlan plan, ForwardObserver obs, DynamicTrace trace, ForwardCache cache) {
        int depth = Ranges.depth();
        Ranges.push("forward");
        try {
            return runBlocks(ws, plan, obs, trace, cache);
        } finally {
            while (Ranges.depth() > depth) { // also after an exception half-way through a stage
                Ranges.pop();
            }
        }
    }

    private double runBlocks(ForwardWorkspace ws, StepPlan plan, ForwardObserver obs, DynamicTrace trace,
            ForwardCache cache) {
        int n = ws.batch;
        PatchGeometry g = ws.geometry;
        double macs = embed(ws, obs);
        long d = c.hiddenSize(), rows = (long) n * g.tokens();
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        boolean stepCache = cache != null && cache.spec.kind() == CacheSpec.Kind.STEP;
        if (stepCache) { // the probe: block 0's modulated input
            Ranges.push("step cache");
            ws.selectBlock(0);
            if (ws.conditioningSlot >= 0) {
                adaLN(ws); // every block's, from the table
            } else { // block 0's alone (a reused step needs no more); row- and column-wise the bits of adaLN's
                conditioningLinear(ws.cSilu, w.blocks[0].adaW(), w.blocks[0].adaB(), ws.ada);
            }
            Ops.layerNormModulate(ws.h, ws.adaChunks[0], ws.adaChunks[1], LN_EPS, ws.u);
            macs += (double) n * 6 * d * d;
            boolean reuse = cache.reuseStep(ws.u.toFloatArray());
            if (reuse) {
                cache.applyResidual(ws.h);
            } else {
                cache.keepInput(ws.h, rows, d);
            }
            Ranges.pop();
            if (reuse) {
                java.util.Arrays.fill(attnMacs, 0);
                java.util.Arrays.fill(mlpMacs, 0);
                return finish(ws, g, macs, obs);
            }
        }
        boolean blockCache = cache != null && cache.spec.kind() == CacheSpec.Kind.BLOCK;
        TokenCache tokens = cache == null ? null : cache.tokens;
        boolean fullStep = blockCache ? cache.fullStep() : tokens == null || tokens.fullStep();
        if (!stepCache || ws.conditioningSlot < 0) {
            adaLN(ws);
        }
        for (int i = 0; i < c.depth(); i++) {
            LayerPlan lp = plan.layer(i);
            String name = "block." + i + ".";
            Ranges.push(blockRanges[i]);
            ws.selectBlock(i);
            obs.onTensor(name + "adaLN", ws.ada);
            macs += (double) n * 6 * d * d;
            if (lp.routing() == LayerPlan.TokenRouting.TOP_K) {
                topKBlock(ws, i, lp.topK(), scale, trace);
            } else if (blockCache && !fullStep && !lp.routeTokens()) { // cached branches, this step's gates
                Ops.gatedResidualAdd(ws.h, ws.adaChunks[2], cache.attnOut(i, ws.proj, rows, d));
                Ops.gatedResidualAdd(ws.h, ws.adaChunks[5], cache.mlpOut(i, ws.fc2, rows, d));
                attnMacs[i] = 0;
                mlpMacs[i] = 0;
            } else if (tokens != null && !fullStep && TokenCache.eligible(lp) && tokens.filled(i)) {
                Ranges.push("token cache");
                double[] spent = tokens.run(i, w.blocks[i], ws, scale);
                attnMacs[i] = spent[0];
                mlpMacs[i] = spent[1];
                Ranges.pop();
            } else {
                // Nobody reads the branch outputs (no observer, no cache keeping them): fused into the GEMMs.
                boolean fuse = obs == ForwardObserver.NONE && cache == null;
                // a token cache takes this block's qkv, branch outputs and key mass straight into its buffers
                TokenCache fill = tokens != null && TokenCache.eligible(lp) ? tokens : null;
                attnMacs[i] = attention(ws, i, lp, scale, obs, fuse, fill);
                mlpMacs[i] = mlp(ws, i, lp, obs, trace, fuse, fill);
                if (blockCache && !lp.routeTokens()) {
                    cache.keepAttn(i, ws.proj, rows, d);
                    cache.keepMlp(i, ws.fc2, rows, d);
                } else if (fill != null) {
                    attnMacs[i] += fill.kept(i);
                }
            }
            macs += attnMacs[i] + mlpMacs[i];
            obs.onTensor(name + "out", ws.h);
            if (trace != null) {
                trace.recordWidth(i, lp);
            }
            Ranges.pop();
        }
        if (stepCache) {
            cache.keepResidual(ws.h, rows, d);
        }
        if (blockCache && fullStep) {
            cache.blocksFilled();
        }
        return finish(ws, g, macs, obs);
    }

    /** The final layer (adaLN, LayerNorm, linear, unpatchify) after the blocks; returns the forward's MACs. */
    private double finish(ForwardWorkspace ws, PatchGeometry g, double macs, ForwardObserver obs) {
        int n = ws.batch;
        if (ws.conditioningSlot < 0) { // else adaLN copied it with the blocks'
            conditioningLinear(ws.cSilu, w.finalAdaW, w.finalAdaB, ws.finalAda);
        }
        obs.onTensor("final.adaLN", ws.finalAda);
        Ops.layerNormModulate(ws.h, ws.finalShift, ws.finalScale, LN_EPS, ws.u);
        Ops.linear(ws.u, g.finalW(), g.finalB(), ws.finalTokens);
        obs.onTensor("final_tokens", ws.finalTokens);
        Ops.unpatchify(ws.finalTokens, g.patch(), ws.out);
        long d = c.hiddenSize(), rows = (long) n * g.tokens();
        return macs + n * 2.0 * d * d + rows * d * g.patch() * g.patch() * c.outChannels();
    }

    /**
     * Every block's adaLN (and the final layer's, when from the table): it depends on the conditioning alone, so one
     * product for all blocks (their weights back to back, DiTWeights.adaAllW), or the rows a generation made ahead
     * for this step (ConditioningTable, the same bits).
     */
    private void adaLN(ForwardWorkspace ws) {
        if (ws.conditioningSlot >= 0) {
            ws.conditioning().copy(ws.conditioningSlot, ws.adaAll, ws.finalAda);
        } else {
            conditioningLinear(ws.cSilu, w.adaAllW, w.adaAllB, ws.adaAll);
        }
    }

    /** The conditioning's linears: row-invariant where the table may serve them (GemmControl), else plain. */
    private void conditioningLinear(Tensor x, Tensor wt, Tensor b, Tensor y) {
        if (gemm.rowInvariantConditioning()) {
            Ops.linearRowInvariant(x, wt, b, y);
        } else {
            Ops.linear(x, wt, b, y);
        }
    }

    private double embed(ForwardWorkspace ws, ForwardObserver obs) {
        PatchGeometry g = ws.geometry;
        Ops.patchify(ws.x, g.patch(), ws.patches);
        Ops.linear(ws.patches, g.patchW(), g.patchB(), ws.h);
        obs.onTensor("patch_embed", ws.h);
        Ops.addBroadcast(ws.h, g.pos());
        obs.onTensor("x_tokens", ws.h);
        Ops.timestepEmbedding(ws.t, 10000f, ws.tFreq);
        obs.onTensor("t_freq", ws.tFreq);
        conditioningLinear(ws.tFreq, w.t0W, w.t0B, ws.t1);
        Ops.silu(ws.t1, ws.t1);
        conditioningLinear(ws.t1, w.t2W, w.t2B, ws.c);
        obs.onTensor("t_emb", ws.c);
        Ops.gatherRows(w.labelTable, ws.y, ws.yEmb);
        obs.onTensor("y_emb", ws.yEmb);
        Ops.gatedResidualAdd(ws.c3, null, ws.yEmb3);
        Ops.silu(ws.c, ws.cSilu);
        double d = c.hiddenSize(), rows = (double) ws.batch * g.tokens();
        return rows * d * c.inChannels() * g.patch() * g.patch() + ws.batch * (256 * d + d * d);
    }

    /**
     * The bf16 qkv and attn of a fused full-width block, or null: in bf16 GEMM precision, whose linears and attention
     * read and write them directly (CUDA's LayerNorm-modulate writes fp32 u; the CPU's bf16 forward,
     * {@link GemmControl#bf16Activations}, keeps u and the hidden in bf16 too).
     */
    private ForwardWorkspace.AttentionBuffers bf16(ForwardWorkspace ws) {
        return gemm.precision() == Precision.BF16 ? ws.bf16 : null;
    }

    /**
     * fuse: the gated residual add in the proj GEMM (ws.proj is not written). fill: a token cache that takes the
     * block's qkv, attention output and key mass (full heads only).
     */
    private double attention(ForwardWorkspace ws, int i, LayerPlan lp, float scale, ForwardObserver obs, boolean fuse,
            TokenCache fill) {
        DiTWeights.Block b = w.blocks[i];
        Tensor[] a = ws.adaChunks;
        int n = ws.batch, t = ws.geometry.tokens(), hd = c.headDim(), heads = lp.headCount(c.numHeads());
        long d = c.hiddenSize(), rows = (long) n * t;
        Ranges.push("attention");
        boolean fused = fuse && lp.allHeads();
        Tensor proj = fill == null ? ws.proj : fill.attnOut(i);
        boolean b16act = gemm.bf16Activations(); // the CPU in bf16: u, qkv and attn in bf16 at every width
        Tensor u = b16act ? ws.uBf16() : ws.u;
        Ops.layerNormModulate(ws.h, a[0], a[1], LN_EPS, u);
        ForwardWorkspace.AttentionBuffers b16 = fused ? bf16(ws) : null; // fused: no cache, nobody reads qkv / attn
        if (lp.allHeads()) {
            if (b16 != null) {
                Ops.linear(u, b.qkvW(), b.qkvB(), b16.qkv);
                Ops.attention(b16.q, b16.k, b16.v, scale, b16.attn);
            } else if (fill == null) {
                Ops.linear(u, b.qkvW(), b.qkvB(), ws.qkv);
                Ops.attention(ws.q, ws.k, ws.v, scale, ws.attn);
            } else {
                Ops.linear(u, b.qkvW(), b.qkvB(), fill.qkv(i));
                fill.attend(i, scale, ws.attn);
            }
            if (fused) {
                Ops.linearGatedResidual(b16 != null ? b16.attnFlat : ws.attnFlat, b.projW(), b.projB(), a[2], ws.h);
            } else {
                Ops.linear(ws.attnFlat, b.projW(), b.projB(), proj);
            }
        } else {
            long width = (long) heads * hd;
            Tensor qkvAll = b16act ? ws.bf16.qkv : ws.qkv, attnAll = b16act ? ws.bf16.attn : ws.attn;
            if (heads > 0) {
                Tensor qkv = ws.prefix(qkvAll, n, t, 3 * width);
                Ops.linearOutBlocks(u, b.qkvW(), b.qkvB(), Blocks.qkvRows(lp.heads(), (int) d, hd), qkv);
                long[] shape = {n, t, heads, hd}, st = {t * 3 * width, 3 * width, hd, 1};
                Tensor o = ws.prefix(attnAll, n, t, heads, hd);
                Ops.attention(ws.view(qkvAll, shape, st, 0), ws.view(qkvAll, shape, st, width),
                        ws.view(qkvAll, shape, st, 2 * width), scale, o);
            }
            Tensor attn = ws.prefix(attnAll, n, t, width);
            long[] units = Blocks.units(lp.heads(), hd);
            if (fuse && gemm.fusesSlicedOps()) { // the gated residual on each thread's rows as it finishes them
                Ops.linearInBlocksGatedResidual(attn, b.projW(), b.projB(), units, a[2], ws.h);
                fused = true;
            } else {
                Ops.linearInBlocks(attn, b.projW(), b.projB(), units, ws.proj);
            }
        }
        if (!fused) {
            obs.onTensor("block." + i + ".attn_out", proj);
            Ops.gatedResidualAdd(ws.h, a[2], proj);
        }
        Ranges.pop();
        double active = (double) heads * hd;
        return rows * 4 * d * active + n * 2.0 * t * t * active;
    }

    /** fuse: the gated residual add in the fc2 GEMM (ws.fc2 is not written). fill: as for attention. */
    private double mlp(ForwardWorkspace ws, int i, LayerPlan lp, ForwardObserver obs, DynamicTrace trace, boolean fuse,
            TokenCache fill) {
        DiTWeights.Block b = w.blocks[i];
        Tensor[] a = ws.adaChunks;
        int n = ws.batch, t = ws.geometry.tokens(), gs = c.mlpHidden() / c.numHeads();
        long d = c.hiddenSize(), m = lp.allGroups() ? c.mlpHidden() : (long) lp.groups().length * gs;
        if (!lp.routeTokens()) {
            Ranges.push("mlp");
            Tensor u = gemm.bf16Activations() ? ws.uBf16() : ws.u;
            Ops.layerNormModulate(ws.h, a[3], a[4], LN_EPS, u);
            Tensor fc1 = lp.allGroups() ? ws.fc1 : ws.prefix(ws.fc1, n, t, m);
            if (lp.allGroups() && fuse) {
                // the hidden in bf16 where the linears take it (the CPU in bf16; CUDA's fused blocks in bf16)
                Tensor hidden = gemm.bf16Activations() || bf16(ws) != null ? ws.fc1Bf16() : fc1;
                Ops.linearGelu(u, b.fc1W(), b.fc1B(), hidden);
                Ops.linearGatedResidual(hidden, b.fc2W(), b.fc2B(), a[5], ws.h);
                Ranges.pop();
                return (double) n * t * 2 * d * m;
            }
            Tensor fc2 = fill == null ? ws.fc2 : fill.mlpOut(i);
            if (fuse) { // nobody reads the branch output: straight into the residual
                runMlp(ws, b, lp, u, fc1, null, a[5], gs);
            } else {
                runMlp(ws, b, lp, u, fc1, fc2, null, gs);
                obs.onTensor("block." + i + ".mlp_out", fc2);
                Ops.gatedResidualAdd(ws.h, a[5], fc2);
            }
            Ranges.pop();
            return (double) n * t * 2 * d * m;
        }
        // token router on the post-attention residual stream (fp32 GEMVs: decisions must equal the reference)
        Ranges.push("router");
        gemm.beginRouter();
        Ops.linear(ws.h, routers.tok0W[i], routers.tok0B[i], ws.tokHidden);
        Ops.relu(ws.tokHidden, ws.tokHidden);
        Ops.linear(ws.tokHidden, routers.tok2W[i], routers.tok2B[i], ws.tokLogits);
        gemm.endRouter();
        obs.onTensor("block." + i + ".token_logits", ws.tokLogits);
        Ops.selectTokens(ws.tokLogits2d, ws.tokIndex, ws.tokSample, ws.tokCounts);
        int[] counts = ws.tokCounts.toIntArray();
        Ranges.pop();
        int k = 0;
        for (int cnt : counts) {
            k += cnt;
        }
        if (trace != null) {
            trace.recordTokens(i, ws.tokIndex, k);
        }
        double routerMacs = (double) n * t * (d * routers.tokenHidden + routers.tokenHidden);
        if (k == 0) {
            return routerMacs;
        }
        Ranges.push("mlp");
        if (k == n * t && denseWhenAllKept) {
            // every token kept: the dense MLP, the values the gather / scatter would give, without their copies
            Tensor u = gemm.bf16Activations() ? ws.uBf16() : ws.u;
            Ops.layerNormModulate(ws.h, a[3], a[4], LN_EPS, u);
            Tensor fc2 = ws.prefix(ws.fc2, n, t, d);
            if (fuse) {
                runMlp(ws, b, lp, u, ws.prefix(ws.fc1, n, t, m), null, a[5], gs);
            } else {
                runMlp(ws, b, lp, u, ws.prefix(ws.fc1, n, t, m), fc2, null, gs);
                obs.onTensor("block." + i + ".mlp_out_kept", ws.prefix(ws.fc2, k, d));
                Ops.gatedResidualAdd(ws.h, a[5], fc2);
            }
            Ranges.pop();
            return routerMacs + (double) k * 2 * d * m;
        }
        Tensor idx = ws.prefix(ws.tokIndex, k), smp = ws.prefix(ws.tokSample, k);
        Tensor hk = ws.prefix(ws.rows, k, d), out = ws.prefix(ws.rowsOut, k, d);
        Ops.gatherRows(ws.hFlat, idx, hk);
        Ops.layerNormModulateRows(hk, a[3], a[4], smp, LN_EPS, hk);
        runMlp(ws, b, lp, hk, ws.prefix(ws.fc1, k, m), out, null, gs);
        obs.onTensor("block." + i + ".mlp_out_kept", out);
        Ops.scatterAddRows(ws.hFlat, idx, out, a[5], smp);
        Ranges.pop();
        return routerMacs + (double) k * 2 * d * m;
    }

    /**
     * DiffCR block: score = sigmoid(h . router) per token; the k best tokens of each sample are gathered,
     * run attention among themselves and the MLP (its branch scaled by the score), and are written back.
     */
    private void topKBlock(ForwardWorkspace ws, int i, int k, float scale, DynamicTrace trace) {
        DiTWeights.Block b = w.blocks[i];
        Tensor[] a = ws.adaChunks;
        int n = ws.batch, t = ws.geometry.tokens(), hd = c.headDim(), heads = c.numHeads();
        long d = c.hiddenSize(), m = c.mlpHidden(), rows = (long) n * k;
        Ranges.push("router");
        gemm.beginRouter();
        Ops.linear(ws.h, diffcr.router[i], null, ws.tokLogits);
        gemm.endRouter();
        Ops.sigmoid(ws.tokLogits, ws.tokScores);
        Tensor idx2 = ws.prefix(ws.tokIndex, n, k), idx = ws.prefix(ws.tokIndex, rows);
        Ops.topkRows(ws.tokScores2d, k, idx2);
        Ranges.pop();
        if (trace != null) {
            trace.recordTopK(i, ws.tokScores2d, idx, k);
        }
        Tensor xk = ws.prefix(ws.rows, rows, d), xk3 = ws.prefix(ws.rows, n, k, d);
        Ops.gatherRows(ws.hFlat, idx, xk);
        Tensor u = ws.prefix(gemm.bf16Activations() ? ws.uBf16() : ws.u, n, k, d);
        Ranges.push("attention");
        Ops.layerNormModulate(xk3, a[0], a[1], LN_EPS, u);
        // the CPU in bf16: qkv and attn in bf16 too, read by attention and proj as they are
        boolean b16act = gemm.bf16Activations();
        Tensor qkvAll = b16act ? ws.bf16.qkv : ws.qkv, attnAll = b16act ? ws.bf16.attn : ws.attn;
        Tensor qkv = ws.prefix(qkvAll, n, k, 3 * d);
        Ops.linear(u, b.qkvW(), b.qkvB(), qkv);
        long[] shape = {n, k, heads, hd}, st = {k * 3 * d, 3 * d, hd, 1};
        Tensor o = ws.prefix(attnAll, n, k, heads, hd);
        Ops.attention(ws.view(qkvAll, shape, st, 0), ws.view(qkvAll, shape, st, d), ws.view(qkvAll, shape, st, 2 * d),
                scale, o);
        Tensor proj = ws.prefix(ws.proj, n, k, d);
        Ops.linear(ws.prefix(attnAll, n, k, d), b.projW(), b.projB(), proj);
        Ops.gatedResidualAdd(xk3, a[2], proj);
        Ranges.pop();
        Ranges.push("mlp");
        Ops.layerNormModulate(xk3, a[3], a[4], LN_EPS, u);
        Tensor fc1 = ws.prefix(gemm.bf16Activations() ? ws.fc1Bf16() : ws.fc1, n, k, m), fc2 = ws.prefix(ws.fc2, n, k, d);
        Ops.linearGelu(u, b.fc1W(), b.fc1B(), fc1);
        Ops.linear(fc1, b.fc2W(), b.fc2B(), fc2);
        Tensor kept = ws.prefix(ws.keptScores, rows, 1);
        Ops.gatherRows(ws.tokScoresFlat, idx, kept);
        Ops.scaleRows(ws.prefix(ws.fc2, rows, d), ws.prefix(ws.keptScores, rows));
        Ops.gatedResidualAdd(xk3, a[5], fc2);
        Ops.scatterRows(ws.hFlat, idx, xk);
        Ranges.pop();
        attnMacs[i] = rows * 4 * d * d + n * 2.0 * k * k * d + (double) n * t * d;
        mlpMacs[i] = rows * 2 * d * m;
    }

    /**
     * fc2(GELU(fc1(u))) over the plan's active groups (all when the plan says so) into out, or (out null) added into
     * ws.h with the gate: the fused forms where the backend has them, bit for bit the separate ops.
     */
    private void runMlp(ForwardWorkspace ws, DiTWeights.Block b, LayerPlan lp, Tensor u, Tensor fc1, Tensor out,
            Tensor gate, int gs) {
        Tensor hidden = gemm.bf16Activations() ? ws.prefix(ws.fc1Bf16(), fc1.shape()) : fc1;
        if (lp.allGroups()) {
            Ops.linearGelu(u, b.fc1W(), b.fc1B(), hidden);
            if (out == null) {
                Ops.linearGatedResidual(hidden, b.fc2W(), b.fc2B(), gate, ws.h);
            } else {
                Ops.linear(hidden, b.fc2W(), b.fc2B(), out);
            }
            return;
        }
        long[] blocks = Blocks.units(lp.groups(), gs);
        // the CPU in bf16: the kept groups' hidden in bf16, as the full-width one (the product rounded, then GELU)
        boolean fusedOps = gemm.fusesSlicedOps();
        if (lp.groups().length > 0) {
            if (fusedOps) {
                Ops.linearOutBlocksGelu(u, b.fc1W(), b.fc1B(), blocks, hidden);
            } else {
                Ops.linearOutBlocks(u, b.fc1W(), b.fc1B(), blocks, hidden);
                Ops.geluTanh(hidden, hidden);
            }
        }
        if (out != null) {
            Ops.linearInBlocks(hidden, b.fc2W(), b.fc2B(), blocks, out);
        } else if (fusedOps) {
            Ops.linearInBlocksGatedResidual(hidden, b.fc2W(), b.fc2B(), blocks, gate, ws.h);
        } else {
            Tensor fc2 = ws.prefix(ws.fc2, ws.h.shape());
            Ops.linearInBlocks(hidden, b.fc2W(), b.fc2B(), blocks, fc2);
            Ops.gatedResidualAdd(ws.h, gate, fc2);
        }
    }
}
