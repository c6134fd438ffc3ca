package io.dyndit.model;

import io.dyndit.core.Device;
import io.dyndit.core.Precision;

/**
 * A model's GEMM precision on CUDA devices, set before each evaluation, and the fp32 sections the routers run
 * in whatever the model's precision: their small GEMVs decide keep/skip, and those decisions must equal the
 * reference's float32 ones. On the CPU everything is fp32 and this does nothing.
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

    /** Before an evaluation: the model's precision (another model on the device may have changed it). */
    void apply() {
        if (device.isCuda()) {
            device.setGemmPrecision(precision);
        }
    }

    void beginRouter() {
        if (device.isCuda() && precision != Precision.FP32) {
            device.setGemmPrecision(Precision.FP32);
        }
    }

    void endRouter() {
        if (device.isCuda() && precision != Precision.FP32) {
            device.setGemmPrecision(precision);
        }
    }
}
