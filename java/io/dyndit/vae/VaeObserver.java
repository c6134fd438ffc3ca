package io.dyndit.vae;

import io.dyndit.core.Tensor;

/**
 * Sees the decoder's intermediate activations of each tile of samples, under the names of the golden files:
 * post_quant_conv_out, conv_in_out, mid_resnet0_out, mid_attn_out, mid_block_out, up_block_{i}_out (execution
 * order), norm_out_act_out and image. The tensor is only valid during the call (its memory is reused).
 *
 * <p>Thread-safety: called on the decoding thread; one observer given to decodes running at once must be thread-safe
 * itself.
 */
@FunctionalInterface
public interface VaeObserver {
    VaeObserver NONE = (name, firstSample, value) -> {};

    /** {@code value} [tileSamples, C, H, W] holds samples firstSample.. of the batch after stage {@code name}. */
    void stage(String name, int firstSample, Tensor value);
}
