package io.dyndit.core;

import io.dyndit.nativelib.DynditNative;
import java.util.Locale;
import java.util.Objects;

/**
 * Where tensors live and ops run: the CPU, a CUDA GPU, or the emulated CUDA device used in tests.
 *
 * <p>Thread-safety: an immutable value, safe to share; {@link #setGemmPrecision} sets a value of the calling thread
 * only.
 */
public final class Device {
    /** Device kinds; codes match dd_device_type in dyndit.h. */
    public enum Type {
        CPU(0, "cpu"), CUDA(1, "cuda"), CUDA_EMU(2, "cuda-emu");

        final int code;
        final String label;

        Type(int code, String label) {
            this.code = code;
            this.label = label;
        }

        public int code() {
            return code;
        }
    }

    private static final Device CPU = new Device(Type.CPU, 0);

    private final Type type;
    private final int index;

    private Device(Type type, int index) {
        if (index < 0) {
            throw new InvalidArgumentException("device index must be >= 0, got " + index);
        }
        this.type = type;
        this.index = index;
    }

    public static Device cpu() {
        return CPU;
    }

    public static Device cuda(int index) {
        return new Device(Type.CUDA, index);
    }

    public static Device cudaEmulated() {
        return new Device(Type.CUDA_EMU, 0);
    }

    /** Parses "cpu", "cuda", "cuda:1" or "cuda-emu". */
    public static Device parse(String text) {
        String s = text.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) {
            return CPU;
        }
        if (s.equals("cuda-emu")) {
            return cudaEmulated();
        }
        if (s.equals("cuda")) {
            return cuda(0);
        }
        if (s.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("bad CUDA device index in '" + text + "'");
            }
        }
        throw new InvalidArgumentException("unknown device '" + text + "' (expected cpu, cuda, cuda:N or cuda-emu)");
    }

    public Type type() {
        return type;
    }

    public int index() {
        return index;
    }

    /**
     * Throws {@link DeviceUnavailableException} carrying CUDA's own reason (no driver, no device, or a
     * library built without CUDA) when this device cannot be used; returns normally otherwise.
     */
    public void checkAvailable() {
        if (type == Type.CPU) {
            return;
        }
        if (type == Type.CUDA_EMU) {
            CudaEmuLoader.ensureLoaded();
            return;
        }
        NativeLoader.ensureLoaded();
        NativeErrors.check(DynditNative.dd_cuda_probe(index), this + " requested");
    }

    public boolean isAvailable() {
        try {
            checkAvailable();
            return true;
        } catch (DeviceUnavailableException e) {
            return false;
        }
    }

    /** Whether this is a CUDA device (real or emulated), where {@link Precision} applies. */
    public boolean isCuda() {
        return type != Type.CPU;
    }

    /**
     * Sets the arithmetic of matrix products (linear, conv) for the calling thread's later ops on devices of this
     * type. The CPU computes fp32 for FP32 and TF32, and bf16 linears and k x k convolutions (oneDNN; 1x1 convolutions stay
     * fp32) for BF16, which a CPU without AVX512_BF16 or AMX refuses ({@link UnsupportedOnDeviceException} naming its
     * features).
     */
    public void setGemmPrecision(Precision precision) {
        // No device probe: models call this per forward and around every router, and it only sets a per-thread
        // value (an unusable GPU is refused when its tensors are allocated).
        if (type == Type.CUDA_EMU) {
            CudaEmuLoader.ensureLoaded();
        } else {
            NativeLoader.ensureLoaded();
        }
        NativeErrors.check(DynditNative.dd_set_gemm_precision(type.code, precision.code()), "precision " + precision);
    }

    @Override
    public String toString() {
        return type == Type.CUDA ? "cuda:" + index : type.label;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.type == type && d.index == index;
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, index);
    }
}
