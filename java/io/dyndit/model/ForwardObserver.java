package io.dyndit.model;

import io.dyndit.core.Tensor;

/**
 * Sees named intermediates of a forward pass as they are produced (names as in the golden files:
 * patch_embed, x_tokens, t_freq, t_emb, y_emb, block.{i}.adaLN, block.{i}.attn_out, block.{i}.mlp_out,
 * block.{i}.out, final.adaLN, final_tokens). The tensor is only valid during the call: copy what you keep.
 *
 * <p>Thread-safety: called on the thread running the forward; one observer given to forwards running at once must be
 * thread-safe itself.
 */
@FunctionalInterface
public interface ForwardObserver {
    void onTensor(String name, Tensor value);

    ForwardObserver NONE = (n, v) -> {};
}
