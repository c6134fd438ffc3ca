package io.dyndit.sampling;

import io.dyndit.core.InvalidArgumentException;
import java.util.TreeSet;

/**
 * The official {@code space_timesteps(num_timesteps, str(steps))} for one section: which original timesteps a
 * respaced schedule keeps. The stride is accumulated by repeated float64 addition and rounded half-to-even (Python's
 * round, i.e. {@link Math#rint}; {@link Math#round} rounds half up and picks different timesteps, e.g. 166.5 at S=25).
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
public final class Respacing {
    private Respacing() {}

    /** The kept original timesteps, ascending: timestep_map[k] is what the model receives at respaced index k. */
    public static long[] timestepMap(int numTimesteps, int steps) {
        if (steps < 1 || steps > numTimesteps) {
            throw new InvalidArgumentException("steps must be between 1 and " + numTimesteps + ", got " + steps);
        }
        double stride = steps <= 1 ? 1 : (double) (numTimesteps - 1) / (steps - 1);
        TreeSet<Long> kept = new TreeSet<>();
        double cur = 0.0;
        for (int k = 0; k < steps; k++) {
            kept.add((long) Math.rint(cur));
            cur += stride;
        }
        return kept.stream().mapToLong(Long::longValue).toArray();
    }
}
