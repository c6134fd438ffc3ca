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
     * Whether the full-width linears take bf16 activations (the LayerNorm output and the MLP hidden are written in
     * bf16 and read by the GEMMs as they are: no fp32 copy, no rounding pass; the values equal the fp32 path's): bf16
     * on the CPU, whose linears and LayerNorm take and give bf16.
     */
    boolean bf16Activations() {
        return precision == Precision.BF16 && !device.isCuda();
    }

    /**
     * Whether the width-sliced linears run fused with the GELU and the gated residual that follow them (the CPU's
     * {@code dd_linear_out_blocks_gelu} / {@code dd_linear_in_blocks_gated_residual}; CUDA runs the separate ops).
     */
    boolean fusesSlicedOps() {
        return !device.isCuda();
    }

    /**
     * Whether the conditioning's linears (timestep MLP, adaLN) run row-invariant ({@code Ops.linearRowInvariant}: a
     * step's rows equal whether made alone or with other steps', so a generation makes them ahead in one pass over the
     * weights, {@link ConditioningTable}): the CPU in fp32 (bf16 keeps them in oneDNN's bf16 products; CUDA has no
     * such op).
     */
    boolean rowInvariantConditioning() {
        return !device.isCuda() && precision != Precision.BF16;
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
