package io.dyndit.core;

import io.dyndit.nativelib.DynditVaeNative;

/**
 * The image-space ops of the SD-VAE decoder (native/include/dyndit/dyndit_vae.h), f32 NCHW. Like {@link Ops},
 * every op checks all its inputs before touching memory and throws the typed exception naming the tensor.
 *
 * <p>Thread-safety: stateless; ops may run on many threads at once, on tensors as {@link Tensor} allows (two ops
 * writing the same output race).
 */
public final class VaeOps {
    private VaeOps() {}

    /**
     * PyTorch Conv2d with stride 1 and zero padding (k-1)/2: y = conv(x, w) + bias + residual. x [N,Ci,H,W],
     * w [Co,Ci,kh,kw] (odd kh, kw), y [N,Co,H,W], all contiguous; bias [Co] or null; residual [N,Co,H,W], null, or
     * y itself (y += conv(x, w) + bias).
     */
    public static void conv2d(Tensor x, Tensor w, Tensor bias, Tensor residual, Tensor y) {
        NativeLoader.ensureLoaded();
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditVaeNative.dd_conv2d(l.of(x), l.of(w), l.of(bias), l.of(residual),
                    l.of(y)));
        }
    }

    /**
     * GroupNorm of x [N,C,H,W] over {@code groups} groups of consecutive channels (biased variance), affine with
     * gamma, beta [C] (both null: none), then SiLU when {@code silu}; y may be x.
     */
    public static void groupNorm(Tensor x, Tensor gamma, Tensor beta, int groups, float eps, boolean silu, Tensor y) {
        NativeLoader.ensureLoaded();
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditVaeNative.dd_group_norm(l.of(x), l.of(gamma), l.of(beta), groups, eps,
                    silu ? 1 : 0, l.of(y)));
        }
    }

    /** Nearest-neighbour 2x upsampling: x [N,C,H,W] to y [N,C,2H,2W]. */
    public static void upsampleNearest2x(Tensor x, Tensor y) {
        NativeLoader.ensureLoaded();
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditVaeNative.dd_upsample_nearest2x(l.of(x), l.of(y)));
        }
    }

    /** y[b,s,r] = x[b,r,s] + residual[b,s,r]: x [B,R,S], y [B,S,R]; residual null, y itself, or disjoint. */
    public static void transposeLast2(Tensor x, Tensor residual, Tensor y) {
        NativeLoader.ensureLoaded();
        try (Leases l = new Leases()) {
            NativeErrors.check(DynditVaeNative.dd_transpose_last2(l.of(x), l.of(residual), l.of(y)));
        }
    }
}
