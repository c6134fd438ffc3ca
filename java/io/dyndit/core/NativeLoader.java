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
        }
    }
}
