package io.dyndit.sampling;

/**
 * What one loop step cost. {@code step} counts from 0 in loop order, {@code index} is the respaced index
 * (S-1-step), {@code timestep} the original-scale timestep the model received, {@code seconds} the wall time of the
 * step (model evaluation and update), {@code macs} the multiply-accumulates the model reported for the whole batch,
 * {@code attnMacs}/{@code mlpMacs} the same per block (attention incl. projections; MLP incl. token routers), empty
 * when the model gives no breakdown.
 *
 * <p>Thread-safety: immutable values (the per-block arrays are not copied: do not write them), safe to share.
 */
public record StepStats(int step, int index, long timestep, double seconds, double macs, double[] attnMacs,
        double[] mlpMacs) {
    /** Without a per-block breakdown. */
    public StepStats(int step, int index, long timestep, double seconds, double macs) {
        this(step, index, timestep, seconds, macs, new double[0], new double[0]);
    }
}
