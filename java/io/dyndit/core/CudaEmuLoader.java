package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import java.io.File;
import org.bytedeco.javacpp.Loader;

/**
 * Loads the emulated CUDA device (libdyndit_cuda_emu.so: the CUDA backend built against the SIMT emulator) on
 * first request only: it is extracted from the jar like the other native libraries and handed to libdyndit,
 * which dlopens it privately.
 */
final class CudaEmuLoader {
    static final String RESOURCE = "linux-x86_64/libdyndit_cuda_emu.so";
    private static volatile boolean loaded;

    private CudaEmuLoader() {}

    static void ensureLoaded() {
        if (loaded) {
            return;
        }
        synchronized (CudaEmuLoader.class) {
            if (loaded) {
                return;
            }
            NativeLoader.ensureLoaded();
            File file;
            try {
                file = Loader.cacheResource(DynditNative.class, RESOURCE);
            } catch (Exception e) {
                throw new DeviceUnavailableException("cuda-emu: cannot extract " + RESOURCE + ": " + e.getMessage());
            }
            if (file == null) {
                throw new DeviceUnavailableException("cuda-emu: the emulated CUDA device is not part of this build ("
                        + RESOURCE + " missing; it is built when CUDA's headers are present)");
            }
            NativeErrors.check(DynditNative.dd_cuda_emu_load(file.getAbsolutePath()), "cuda-emu requested");
            loaded = true;
        }
    }
}
