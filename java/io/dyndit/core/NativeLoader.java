package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;

/** Loads the native libraries once, turning a load failure into a clear DynditException. */
final class NativeLoader {
    private static volatile boolean loaded;

    private NativeLoader() {}

    static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (NativeLoader.class) {
            if (loaded) {
                return;
            }
            try {
                DynditNative.ensureLoaded();
            } catch (Throwable t) {
                Throwable root = t;
                while (root.getCause() != null) {
                    root = root.getCause();
                }
                throw new DynditException("cannot load the dyndit native library for " + System.getProperty("os.name")
                        + "/" + System.getProperty("os.arch") + ": " + root, t);
            }
            loaded = true;
            System.getLogger("io.dyndit.core").log(System.Logger.Level.DEBUG, () -> "native library " + DynditNative.dd_version()
                    + " loaded: CPU kernels " + DynditNative.dd_cpu_isa() + " on " + DynditNative.dd_cpu_name() + ", "
                    + DynditNative.dd_num_threads() + " threads, BLAS " + DynditNative.dd_blas_info());
        }
    }
}
