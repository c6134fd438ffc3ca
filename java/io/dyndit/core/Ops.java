package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;

/**
 * The tensor operations, each executed by the backend of the device its tensors live on. Every op
 * checks all inputs before touching memory; a mismatch throws the typed exception naming the tensor.
 * Shapes follow native/include/dyndit/dyndit.h.
 *
 * <p>Thread-safety: stateless; ops may run on many threads at once, on tensors as {@link Tensor} allows (two ops
 * writing the same output race).
 */
public final class Ops {
    private Ops() {}

    /** y = x W^T + bias (PyTorch Linear); x [..., K], w [N, K], bias [N] or null, y [..., N]. */
    public static void linear(Tensor x, Tensor w, Tensor bias, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear(l.of(x), l.of(w), l.of(bias), l.of(y)));
        }
    }

    /**
     * y = x W^T + bias as {@link #linear}, each row of y computed by the same operations whatever the other rows and
     * their number (a GEMM may reduce in another order for another row count): f32 only, at every GEMM precision;
     * memory-bound at a few rows. The conditioning's linears, made for several sampling steps at once with each step's
     * own bits. CPU only ({@link UnsupportedOnDeviceException} on CUDA devices).
     */
    public static void linearRowInvariant(Tensor x, Tensor w, Tensor bias, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_row_invariant(l.of(x), l.of(w), l.of(bias), l.of(y)));
        }
    }

    /** dst = src, converted element-wise where the dtypes differ (dd_copy); same shape, any strides. */
    public static void copy(Tensor src, Tensor dst) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_copy(l.of(src), l.of(dst)));
        }
    }

    /**
     * y = gelu_tanh(x W^T + bias), as {@link #linear} then {@link #geluTanh} (one pass on CUDA: the GEMM's epilogue;
     * on the CPU those two ops bit for bit, bf16 activations included: dyndit.h).
     */
    public static void linearGelu(Tensor x, Tensor w, Tensor bias, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_gelu(l.of(x), l.of(w), l.of(bias), l.of(y)));
        }
    }

    /**
     * h += gate * (x W^T + bias) over [N,T,D] (x [N,T,K], gate [N,D] or null), as {@link #linear} then
     * {@link #gatedResidualAdd} (one pass on CUDA: the GEMM's epilogue).
     */
    public static void linearGatedResidual(Tensor x, Tensor w, Tensor bias, Tensor gate, Tensor h) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_gated_residual(l.of(x), l.of(w), l.of(bias), l.of(gate),
                    l.of(h)));
        }
    }

    /** y = LayerNorm(x) * (1 + scale) + shift over [N,T,D]; shift/scale [N,D] views or null. */
    public static void layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_layernorm_modulate(l.of(x), l.of(shift), l.of(scale), eps,
                    l.of(y)));
        }
    }

    /** GELU, tanh approximation; y may be x. */
    public static void geluTanh(Tensor x, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_gelu_tanh(l.of(x), l.of(y)));
        }
    }

    /** SiLU (x * sigmoid(x)); y may be x. */
    public static void silu(Tensor x, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_silu(l.of(x), l.of(y)));
        }
    }

    /** h += gate * x over [N,T,D]; gate [N,D] or null (plain residual add). */
    public static void gatedResidualAdd(Tensor h, Tensor gate, Tensor x) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_gated_residual_add(l.of(h), l.of(gate), l.of(x)));
        }
    }

    /** out = softmax(q k^T * scale) v per batch entry and head; all [N,T,H,Dh] (views allowed). */
    public static void attention(Tensor q, Tensor k, Tensor v, float scale, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_attention(l.of(q), l.of(k), l.of(v), scale, l.of(out)));
        }
    }

    /** dst[i] = src[index[i]]; index i32. */
    public static void gatherRows(Tensor src, Tensor index, Tensor dst) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_gather_rows(l.of(src), l.of(index), l.of(dst)));
        }
    }

    /** dst[index[i]] += gate[rowSample[i]] * src[i] (gate and rowSample both null: += src[i]). */
    public static void scatterAddRows(Tensor dst, Tensor index, Tensor src, Tensor gate, Tensor rowSample) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_scatter_add_rows(l.of(dst), l.of(index), l.of(src),
                    l.of(gate), l.of(rowSample)));
        }
    }

    /** Patch vectors ordered (c, a, b) from x [N,C,H,W]: out [N, (H/p)(W/p), C p p]. */
    public static void patchify(Tensor x, int p, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_patchify(l.of(x), p, l.of(out)));
        }
    }

    /** Inverse layout with channel fastest per token: tokens [N, T, p p Co] to out [N,Co,H,W]. */
    public static void unpatchify(Tensor tokens, int p, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_unpatchify(l.of(tokens), p, l.of(out)));
        }
    }

    /** [cos, sin] sinusoidal features of t [N] f32 into out [N, dim]. */
    public static void timestepEmbedding(Tensor t, float maxPeriod, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_timestep_embedding(l.of(t), maxPeriod, l.of(out)));
        }
    }

    /** y[n] += b for every n; y [N,R,D], b [R,D]. */
    public static void addBroadcast(Tensor y, Tensor b) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_add_broadcast(l.of(y), l.of(b)));
        }
    }

    /**
     * Only the listed output rows of w: blocks = (start, length) pairs; y [..., sum of lengths] gets them back
     * to back (bias slices added). Weights are read in place.
     */
    public static void linearOutBlocks(Tensor x, Tensor w, Tensor bias, long[] blocks, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_out_blocks(l.of(x), l.of(w), l.of(bias), blocks,
                    blocks.length / 2, l.of(y)));
        }
    }

    /** Only the listed input columns of w (x holds them back to back); the full bias is always added. */
    public static void linearInBlocks(Tensor x, Tensor w, Tensor bias, long[] blocks, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_in_blocks(l.of(x), l.of(w), l.of(bias), blocks,
                    blocks.length / 2, l.of(y)));
        }
    }

    /**
     * {@link #linearOutBlocks} then GELU-tanh on y (f32 or bf16) in one op, bit for bit the two (the CPU: each thread
     * applies the GELU to the rows it has just written; CUDA devices refuse it and run the two ops).
     */
    public static void linearOutBlocksGelu(Tensor x, Tensor w, Tensor bias, long[] blocks, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_out_blocks_gelu(l.of(x), l.of(w), l.of(bias), blocks,
                    blocks.length / 2, l.of(y)));
        }
    }

    /**
     * h += gate * {@link #linearInBlocks}(x) in one op (x [N,T,listed columns], h [N,T,rows of w], gate [N, rows of
     * w] or null), bit for bit the two ops (the CPU; CUDA devices refuse it).
     */
    public static void linearInBlocksGatedResidual(Tensor x, Tensor w, Tensor bias, long[] blocks, Tensor gate,
            Tensor h) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_linear_in_blocks_gated_residual(l.of(x), l.of(w), l.of(bias), blocks,
                    blocks.length / 2, l.of(gate), l.of(h)));
        }
    }

    /** LayerNorm + modulate of ragged rows x [K,D] with shift/scale rows chosen by rowSample [K]. */
    public static void layerNormModulateRows(Tensor x, Tensor shift, Tensor scale, Tensor rowSample, float eps, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_layernorm_modulate_rows(l.of(x), l.of(shift), l.of(scale),
                    l.of(rowSample), eps, l.of(y)));
        }
    }

    /** Keeps tokens whose float32 sigmoid(logit) > 0.5: flat indices, their samples and per-sample counts. */
    public static void selectTokens(Tensor logits, Tensor index, Tensor rowSample, Tensor counts) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_select_tokens(l.of(logits), l.of(index), l.of(rowSample),
                    l.of(counts)));
        }
    }

    public static void relu(Tensor x, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_relu(l.of(x), l.of(y)));
        }
    }

    /** Per row of scores [N,T]: the k best as flat indices n*T+t, ascending, into index [N,k] (ties: lower t). */
    public static void topkRows(Tensor scores, int k, Tensor index) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_topk_rows(l.of(scores), k, l.of(index)));
        }
    }

    /** dst[index[i]] = src[i]. */
    public static void scatterRows(Tensor dst, Tensor index, Tensor src) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_scatter_rows(l.of(dst), l.of(index), l.of(src)));
        }
    }

    /** x[r] *= s[r]. */
    public static void scaleRows(Tensor x, Tensor s) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_scale_rows(l.of(x), l.of(s)));
        }
    }

    public static void sigmoid(Tensor x, Tensor y) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_sigmoid(l.of(x), l.of(y)));
        }
    }

    /**
     * The attention mass each key receives, averaged over heads: out[n,j] = (1/H) Σ_h Σ_i softmax_j(scale q_i·k_j);
     * q, k [N,T,H,Dh] views as for {@link #attention}, out [N,T] (each row sums to T).
     */
    public static void attentionKeyMass(Tensor q, Tensor k, float scale, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_attention_key_mass(l.of(q), l.of(k), scale, l.of(out)));
        }
    }

    /**
     * {@link #attention} (self-attention) and {@link #attentionKeyMass} of the same q, k in one call, mass [N,T].
     * Returns whether the backend computed the scores a second time for the mass (false on the CPU, which takes it
     * from the attention's own probabilities, bit for bit the separate ops).
     */
    public static boolean attentionWithKeyMass(Tensor q, Tensor k, Tensor v, float scale, Tensor out, Tensor mass) {
        int[] recomputed = {1};
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_attention_with_key_mass(l.of(q), l.of(k), l.of(v), scale, l.of(out),
                    l.of(mass), recomputed));
        }
        return recomputed[0] != 0;
    }

    /**
     * Block-diagonal attention over packed sequences: q, k, v, out [R,H,Dh]; cuSeqlens [B+1] i32 on the CPU
     * (prefix sums of the sequence lengths).
     */
    public static void attentionVarlen(Tensor q, Tensor k, Tensor v, Tensor cuSeqlens, float scale, Tensor out) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_attention_varlen(l.of(q), l.of(k), l.of(v), l.of(cuSeqlens), scale,
                    l.of(out)));
        }
    }

    /**
     * One DDPM step (the official p_sample in float32, as the Java sampler): x, noise, predXstart, next [B,C,H,W],
     * modelOut [B,Co,H,W]; noise null on the last step, predXstart may be null; coefs as dd_ddpm_update documents.
     */
    public static void ddpmUpdate(Tensor x, Tensor modelOut, Tensor noise, Tensor predXstart, Tensor next, float[] coefs,
            boolean learnedRange) {
        if (coefs.length != 7) {
            throw new InvalidArgumentException("ddpm coefficients: 7 values, got " + coefs.length);
        }
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_ddpm_update(l.of(x), l.of(modelOut), l.of(noise),
                    l.of(predXstart), l.of(next), coefs, learnedRange ? 1 : 0));
        }
    }

    /** One DDIM step (ddim_sample in float32); coefs as dd_ddim_update documents. */
    public static void ddimUpdate(Tensor x, Tensor modelOut, Tensor noise, Tensor predXstart, Tensor next, float[] coefs) {
        if (coefs.length != 5) {
            throw new InvalidArgumentException("ddim coefficients: 5 values, got " + coefs.length);
        }
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_ddim_update(l.of(x), l.of(modelOut), l.of(noise),
                    l.of(predXstart), l.of(next), coefs));
        }
    }

    /**
     * One DPM-Solver++ step (dd_dpm_update): x0 = (x − coefs[0]·ε)/coefs[1] into x0, the order-{@code order} update
     * into next; m1, m2 the previous steps' x0 (read by orders 2 and 3; may be null below). All [B,C,H,W].
     */
    public static void dpmUpdate(Tensor x, Tensor modelOut, Tensor m1, Tensor m2, Tensor x0, Tensor next, float[] coefs,
            int order) {
        int want = order == 1 ? 4 : order == 2 ? 6 : 10;
        if (order < 1 || order > 3 || coefs.length != want) {
            throw new InvalidArgumentException("dpm update: order " + order + " needs " + want + " coefficients, got "
                    + coefs.length);
        }
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_dpm_update(l.of(x), l.of(modelOut), l.of(m1), l.of(m2), l.of(x0),
                    l.of(next), coefs, order));
        }
    }

    /** forward_with_cfg's combine in place on modelOut [2n,Co,H,W]: channels below guided become u + s (c - u). */
    public static void cfgCombine(Tensor modelOut, long guided, float scale) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_cfg_combine(l.of(modelOut), guided, scale));
        }
    }

    /** FlexiDiT weak guidance in place on cond [n,Co,H,W]: channels below guided become g + s (cond - g). */
    public static void weakGuidance(Tensor cond, Tensor guide, long guided, float scale) {
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditNative.dd_weak_guidance(l.of(cond), l.of(guide), guided, scale));
        }
    }
}
