package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;

/**
 * A model's GEMM precision, set on the evaluating thread before each evaluation, and the fp32 sections the routers
 * run in whatever the model's precision: their small GEMVs decide keep/skip, and those decisions must equal the
 * reference's float32 ones. On the CPU tf32 means fp32 and bf16 runs the linears through oneDNN in bf16 (refused
 * with the CPU's features named where the CPU has no bf16 arithmetic).
 */
final class GemmControl {
    private final Device device;
    private volatile Precision precision = Precision.TF32;

    GemmControl(Device device) {
        this.device = device;
    }

    Precision precision() {
        return precision;
    }

    void precision(Precision p) {
        precision = p;
    }

    /**
     * Whether the fused MLP keeps its hidden activations in bf16 (linear_gelu writes them, the fc2 GEMM reads them:
     * no fp32 copy, no rounding pass): bf16 on the CPU, whose linears take bf16 activations.
     */
    boolean bf16Hidden() {
        return precision == Precision.BF16 && !device.isCuda();
    }

    /** Before an evaluation: the model's precision (another model on the device may have changed it). */
    void apply() {
        device.setGemmPrecision(precision);
    }

    void beginRouter() {
        if (precision != Precision.FP32) {
            device.setGemmPrecision(Precision.FP32);
        }
    }

    void endRouter() {
        if (precision != Precision.FP32) {
            device.setGemmPrecision(precision);
        }
    }
}
