package io.dyndit.sampling;

/**
 * Everything one step computed, for the whole batch the loop carries (2n rows with guidance): the latent fed in,
 * the model output, the predicted x0 and the new latent, row-major; the noise added, or null where none was.
 * The arrays belong to the loop: copy what must outlive the call.
 *
 * <p>Thread-safety: valid on the calling thread during the inspector call only; copy what another thread needs.
 */
public record StepTrace(int step, int index, long timestep, float[] xIn, float[] modelOut, float[] predXstart,
        float[] noise, float[] sample) {}
