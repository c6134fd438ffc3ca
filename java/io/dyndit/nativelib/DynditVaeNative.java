package io.dyndit.nativelib;

import io.dyndit.nativelib.DynditNative.dd_tensor;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Const;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * JavaCPP mapping of the VAE ops in native/include/dyndit/dyndit_vae.h (one Java method per C function).
 * Only io.dyndit.core.VaeOps calls these. Loading it loads {@link DynditNative} (and with it oneDNN and
 * libdyndit) first, so its JNI library links against the already loaded libdyndit.
 */
@Platform(include = "dyndit/dyndit_vae.h", link = "dyndit")
public final class DynditVaeNative {
    static {
        Loader.load(DynditNative.class);
        Loader.load();
    }

    private DynditVaeNative() {}

    /** Forces the native libraries to load (the static initializer does the work). */
    public static void ensureLoaded() {}

    public static native int dd_conv2d(@Const dd_tensor x, @Const dd_tensor w, @Const dd_tensor bias,
            @Const dd_tensor residual, dd_tensor y);
    public static native int dd_group_norm(@Const dd_tensor x, @Const dd_tensor gamma, @Const dd_tensor beta, int groups,
            float eps, int silu, dd_tensor y);
    public static native int dd_upsample_nearest2x(@Const dd_tensor x, dd_tensor y);
    public static native int dd_transpose_last2(@Const dd_tensor x, @Const dd_tensor residual, dd_tensor y);
}
