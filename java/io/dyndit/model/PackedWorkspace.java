package io.dyndit.model;

import io.dyndit.core.DType;
import io.dyndit.core.Device;
import io.dyndit.core.Scope;
import io.dyndit.core.Tensor;

/**
 * Buffers of one packed two-branch evaluation (FlexiDiT weak guidance): n samples tokenized at patch pc
 * followed by the same n samples at patch pu, back to back in one token array of R = n (Tc + Tu) rows.
 * Row-wise work (GEMMs) runs over all rows at once; attention is block-diagonal over cu_seqlens; the
 * per-sample adaLN work runs on each branch's view. Planned once per (n, pc, pu).
 */
final class PackedWorkspace implements AutoCloseable {
    private final Scope scope = Scope.open();
    final int n;
    final PatchGeometry gc, gu;
    final Tensor x, t, y, tFreq, t1, c, yEmb, cSilu, c3, yEmb3;
    final Tensor patchesC, patchesU, h, hc, hu, u, uc, uu, qkv, q, k, v, attn, attnC, attnU;
    final Tensor fc1, fc1C, fc1U, cuSeqlens, adaAll, finalAda, tokensC, tokensU, outC, outU;
    final Tensor[] finalC = new Tensor[2], finalU = new Tensor[2];
    /** Block b's six adaLN chunks [n, D] of each branch: views of adaAll, every block's adaLN from one GEMV. */
    final Tensor[][] adaC, adaU;

    PackedWorkspace(DiTConfig cfg, PatchGeometry gc, PatchGeometry gu, Device dev, int n) {
        try {
            this.n = n;
            this.gc = gc;
            this.gu = gu;
            long d = cfg.hiddenSize(), tc = gc.tokens(), tu = gu.tokens(), rows = n * (tc + tu), ch = cfg.inChannels();
            long hd = cfg.headDim(), heads = cfg.numHeads(), co = cfg.outChannels(), side = cfg.inputSize();
            x = scope.empty(dev, DType.F32, n, ch, side, side);
            t = scope.empty(dev, DType.F32, 2L * n);
            y = scope.empty(dev, DType.I32, 2L * n);
            tFreq = scope.empty(dev, DType.F32, 2L * n, 256);
            t1 = scope.empty(dev, DType.F32, 2L * n, d);
            c = scope.empty(dev, DType.F32, 2L * n, d);
            yEmb = scope.empty(dev, DType.F32, 2L * n, d);
            cSilu = scope.empty(dev, DType.F32, 2L * n, d);
            c3 = scope.track(c.reshape(2L * n, 1, d));
            yEmb3 = scope.track(yEmb.reshape(2L * n, 1, d));
            patchesC = scope.empty(dev, DType.F32, n, tc, ch * gc.patch() * gc.patch());
            patchesU = scope.empty(dev, DType.F32, n, tu, ch * gu.patch() * gu.patch());
            h = scope.empty(dev, DType.F32, rows, d);
            hc = branch(h, n, tc, d, 0);
            hu = branch(h, n, tu, d, n * tc * d);
            u = scope.empty(dev, DType.F32, rows, d);
            uc = branch(u, n, tc, d, 0);
            uu = branch(u, n, tu, d, n * tc * d);
            qkv = scope.empty(dev, DType.F32, rows, 3 * d);
            long[] shape = {rows, heads, hd}, st = {3 * d, hd, 1};
            q = scope.track(qkv.view(shape, st, 0));
            k = scope.track(qkv.view(shape, st, d));
            v = scope.track(qkv.view(shape, st, 2 * d));
            attn = scope.empty(dev, DType.F32, rows, heads, hd);
            attnC = branch(attn, n, tc, d, 0);
            attnU = branch(attn, n, tu, d, n * tc * d);
            long m = cfg.mlpHidden();
            fc1 = scope.empty(dev, DType.F32, rows, m);
            fc1C = branch(fc1, n, tc, m, 0);
            fc1U = branch(fc1, n, tu, m, n * tc * m);
            int[] cu = new int[2 * n + 1];
            for (int i = 1; i <= 2 * n; i++) {
                cu[i] = cu[i - 1] + (int) (i <= n ? tc : tu);
            }
            cuSeqlens = scope.ofInts(Device.cpu(), cu, cu.length);
            long all = cfg.depth() * 6L * d; // adaAll row: block b's 6D at b * 6D (DiTWeights.adaAllW's rows)
            adaAll = scope.empty(dev, DType.F32, 2L * n, all);
            adaC = new Tensor[cfg.depth()][6];
            adaU = new Tensor[cfg.depth()][6];
            for (int b = 0; b < cfg.depth(); b++) {
                for (int i = 0; i < 6; i++) {
                    long at = (b * 6L + i) * d;
                    adaC[b][i] = scope.track(adaAll.view(new long[] {n, d}, new long[] {all, 1}, at));
                    adaU[b][i] = scope.track(adaAll.view(new long[] {n, d}, new long[] {all, 1}, n * all + at));
                }
            }
            finalAda = scope.empty(dev, DType.F32, 2L * n, 2 * d);
            for (int i = 0; i < 2; i++) {
                finalC[i] = scope.track(finalAda.view(new long[] {n, d}, new long[] {2 * d, 1}, i * d));
                finalU[i] = scope.track(finalAda.view(new long[] {n, d}, new long[] {2 * d, 1}, n * 2 * d + i * d));
            }
            tokensC = scope.empty(dev, DType.F32, n, tc, (long) gc.patch() * gc.patch() * co);
            tokensU = scope.empty(dev, DType.F32, n, tu, (long) gu.patch() * gu.patch() * co);
            outC = scope.empty(dev, DType.F32, n, co, side, side);
            outU = scope.empty(dev, DType.F32, n, co, side, side);
        } catch (RuntimeException | Error e) { // what was allocated so far is freed
            scope.close();
            throw e;
        }
    }

    private Tensor branch(Tensor base, long n, long tokens, long d, long offset) {
        return scope.track(base.view(new long[] {n, tokens, d}, new long[] {tokens * d, d, 1}, offset));
    }

    @Override
    public void close() {
        scope.close();
    }
}
