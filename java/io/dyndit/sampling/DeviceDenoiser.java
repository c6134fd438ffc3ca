package io.dyndit.sampling;

import io.dyndit.core.Tensor;

/**
 * A {@link Denoiser} that can keep the sampling loop on its device: when {@link #keepsLatentsOnDevice()} holds, the
 * loop holds the latents in device tensors, runs the DDPM / DDIM update there (dd_ddpm_update / dd_ddim_update),
 * uploads only each step's noise and downloads the samples at the end (and a step's tensors only for an inspector).
 *
 * <p>Thread-safety: as {@link Denoiser}: implementations say; the models' denoisers are safe to share.
 */
public interface DeviceDenoiser extends Denoiser {
    /** Whether this denoiser takes device latents for every step of the loop (a CUDA model, one patch size). */
    boolean keepsLatentsOnDevice();

    /** The device the latents live on. */
    io.dyndit.core.Device device();

    /**
     * {@link #evaluate(float[], long[], int, long, double)} on device latents x [N,C,I,I]: the output [N,Co,I,I]
     * stays on the device, valid until the next call.
     */
    DeviceEvaluation evaluate(Tensor x, long[] y, int step, long modelTimestep, double cfgScale);

    record DeviceEvaluation(Tensor output, double macs, double[] attnMacs, double[] mlpMacs) {}
}
