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

    /**
     * The oneDNN kernel (its impl_info, e.g. {@code brg_matmul:avx512_core}) a CPU linear of x [m, k] and w [n, k]
     * runs in {@code precision} on the calling thread's thread count (TF32 is FP32 on the CPU).
     *
     * @throws UnsupportedOnDeviceException BF16 on a CPU without AVX512_BF16 or AMX (the message names its features)
     */
    public static String cpuMatmulKernel(long m, long n, long k, Precision precision) {
        NativeLoader.ensureLoaded();
        byte[] buf = new byte[256];
        NativeErrors.check(DynditNative.dd_cpu_matmul_kernel(m, n, k, precision.code(), buf, buf.length),
                "CPU matmul " + m + " x " + n + " x " + k + " in " + precision);
        int len = 0;
        while (len < buf.length && buf[len] != 0) len++;
        return new String(buf, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
    }

    /** Threads used by CPU kernels and oneDNN (one OpenMP pool); {@code n <= 0} means all cores. */
    public static void setThreads(int n) {
        NativeLoader.ensureLoaded();
        DynditNative.dd_set_num_threads(n);
    }
}
