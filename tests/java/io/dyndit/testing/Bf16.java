package io.dyndit.testing;

import io.dyndit.core.LibraryInfo;
import io.dyndit.core.Precision;
import io.dyndit.core.UnsupportedOnDeviceException;

/** What the reduced-precision tests share: whether this CPU runs bf16, and the error measure of the goldens. */
public final class Bf16 {
    /**
     * bf16 keeps 7 mantissa bits (unit roundoff 2^-8 = 3.9e-3 per rounded operand, 8x TF32's 2^-11): the bound on
     * {@link #relError} is 8x the TF32 bound of 1e-2 that CUDA's TF32 is held to (CudaBackendTest).
     */
    public static final double BOUND = 8e-2;

    private Bf16() {}

    /** Whether the CPU GEMM engine has a bf16 kernel here (AVX512_BF16 or AMX). */
    public static boolean cpuRuns() {
        try {
            LibraryInfo.cpuMatmulKernel(1, 1, 1, Precision.BF16);
            return true;
        } catch (UnsupportedOnDeviceException e) {
            return false;
        }
    }

    /** max |got - ref| / max(1, |ref|) */
    public static double relError(float[] ref, float[] got) {
        double e = 0;
        for (int i = 0; i < ref.length; i++) {
            e = Math.max(e, Math.abs(got[i] - ref[i]) / Math.max(1, Math.abs(ref[i])));
        }
        return e;
    }
}
