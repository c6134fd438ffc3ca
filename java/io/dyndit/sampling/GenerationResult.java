package io.dyndit.sampling;

import java.util.List;

/**
 * The final latents of a generation, [n, C, I, I] row-major (the conditional half under guidance), and what every
 * step cost. {@code staticMacs} is what the same loop would execute with every network evaluation static
 * (static MACs per sample × batch rows × steps), the baseline dynamic models are compared with.
 *
 * <p>Thread-safety: a record owned by the caller; its arrays are not copied, so share it only while nobody writes them.
 */
public record GenerationResult(float[] samples, long[] shape, List<StepStats> steps, double seconds,
        double staticMacs) {
    public GenerationResult {
        steps = List.copyOf(steps);
    }

    /** Multiply-accumulates the model reported over all steps. */
    public double executedMacs() {
        return steps.stream().mapToDouble(StepStats::macs).sum();
    }

    public double stepsPerSecond() {
        return seconds > 0 ? steps.size() / seconds : Double.POSITIVE_INFINITY;
    }
}
