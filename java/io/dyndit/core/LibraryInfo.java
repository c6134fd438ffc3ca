package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;

/**
 * What the native library is and what it found on this machine (for `dyndit info`).
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record LibraryInfo(String version, String cpuName, String cpuFeatures, String kernelIsa, int threads,
        String blas, boolean cudaCompiled, String cudaArchs, boolean gpuUsable, String gpuStatus) {

    public static LibraryInfo query() {
        NativeLoader.ensureLoaded();
        boolean compiled = DynditNative.dd_cuda_compiled() != 0;
        int probe = DynditNative.dd_cuda_probe(0);
        String gpu = probe == NativeErrors.OK ? "CUDA device 0 usable" : DynditNative.dd_last_error();
        return new LibraryInfo(DynditNative.dd_version(), DynditNative.dd_cpu_name(), DynditNative.dd_cpu_features(),
                DynditNative.dd_cpu_isa(), DynditNative.dd_num_threads(), DynditNative.dd_blas_info(), compiled,
                DynditNative.dd_cuda_archs(), probe == NativeErrors.OK, gpu);
    }

    /** Threads used by CPU kernels and BLAS; {@code n <= 0} means all cores. */
    public static void setThreads(int n) {
        NativeLoader.ensureLoaded();
        DynditNative.dd_set_num_threads(n);
    }
}
