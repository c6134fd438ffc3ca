package io.dyndit.model;

import io.dyndit.core.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Picks a schedule of the training-free levers that spends a given fraction of a run's static compute: K first steps
 * at FlexiDiT's coarser patch q = 2p (both guidance branches; when the input allows it) and block caching every N
 * steps ({@link CacheSpec} block:N, counted per patch size as the caches are). The cost of every step is exact (the
 * forward's own MAC count: a full forward at its patch, or for a cached step the embeddings, every block's adaLN and
 * the final layer), so the plan's fraction is what the run reports for a static DiT; a dynamic model's costs come
 * from its own plan at each step's timestep ({@link PlanMacs}: exact for DiffCR and DyDiT widths; DyDiT's per-token
 * MLP skipping is counted at every token, so such a run spends at most the plan). Among the plans within 2% below
 * the budget it takes the one closest to it, then the one with the fewest cached steps.
 *
 * <p>Thread-safety: stateless static functions; the returned {@link Plan} is immutable.
 */
public final class BudgetPlanner {
    /** How far below the budget a plan may land. */
    public static final double TOLERANCE = 0.02;
    /** Longest block-cache interval considered (beyond it the cached branches are too stale to be useful). */
    public static final int MAX_INTERVAL = 10;

    private BudgetPlanner() {}

    /**
     * A schedule: the first K steps at patch q (0: none), block caching every N steps (1: none) from step
     * {@code cacheFrom} on, and the fraction of the static compute it spends.
     */
    public record Plan(int weakSteps, int patch, int cacheInterval, int cacheFrom, double fraction, List<String> steps) {
        public FlexiSchedule flexi() {
            return weakSteps == 0 ? null : new FlexiSchedule(patch, weakSteps, weakSteps, Double.NaN);
        }

        public CacheSpec cache() {
            return cacheInterval <= 1 ? CacheSpec.NONE
                    : new CacheSpec(CacheSpec.Kind.BLOCK, 0, cacheInterval).from(cacheFrom);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d of %d steps at patch %d, %s: %.1f%% of the static compute", weakSteps,
                    steps.size(), patch, cacheInterval <= 1 ? "no caching" : "block cache every " + cacheInterval
                            + " steps from step " + cacheFrom, 100 * fraction);
        }
    }

    /**
     * What each step costs (MACs of one sample) and runs, at the native patch p or the coarse patch 2p: a full
     * forward under the step's plan, a block-cached step, and the step's levers in words ("width 0.75, tokens 0.50").
     * Thread-safety: the planner calls it from the planning thread only; the implementations here are immutable.
     */
    public interface StepCosts {
        double full(int step, int patch);

        double cached(int step, int patch);

        String levers(int step, int patch);
    }

    /** A static DiT's costs: every step the same at each patch size. */
    public static StepCosts staticCosts(DiTConfig c) {
        return new StepCosts() {
            @Override
            public double full(int step, int patch) {
                return FlexiSchedule.macsAt(c, patch);
            }

            @Override
            public double cached(int step, int patch) {
                return cachedStep(c, patch);
            }

            @Override
            public String levers(int step, int patch) {
                return "width 1.0, tokens 1.0";
            }
        };
    }

    /** The plan for {@code steps} steps of a static {@code c} that spends {@code budget} (0, 1] of the static run. */
    public static Plan plan(DiTConfig c, int steps, double budget) {
        return plan(c, steps, budget, staticCosts(c));
    }

    /**
     * The plan for {@code steps} steps with per-step {@code costs} (a dynamic model's own plans: {@link
     * DiTModel#budgetPlan}) that spends {@code budget} (0, 1] of the static run (every step the static forward).
     */
    public static Plan plan(DiTConfig c, int steps, double budget, StepCosts costs) {
        if (!(budget > 0 && budget <= 1)) {
            throw new InvalidArgumentException("compute budget must be in (0, 1], got " + budget);
        }
        if (steps < 1) {
            throw new InvalidArgumentException("a plan needs at least one step, got " + steps);
        }
        int p = c.patchSize(), q = 2 * p;
        int maxWeak = c.inputSize() % q == 0 ? steps : 0, fromStride = Math.max(1, steps / 50);
        double[][] cost = new double[steps][];
        for (int s = 0; s < steps; s++) {
            cost[s] = new double[] {costs.full(s, p), costs.cached(s, p), maxWeak > 0 ? costs.full(s, q) : 0,
                maxWeak > 0 ? costs.cached(s, q) : 0};
        }
        double[] best = null, cheapest = null; // {fraction, k, n, from}
        for (int k = 0; k <= maxWeak; k++) {
            for (int n = 1; n <= Math.min(steps, MAX_INTERVAL); n++) {
                for (int from = 0; from < (n == 1 ? 1 : steps); from += fromStride) {
                    double f = fraction(steps, k, n, from, cost) / (steps * DiTMacs.total(c));
                    double[] cand = {f, k, n, from};
                    if (cheapest == null || f < cheapest[0]) {
                        cheapest = cand;
                    }
                    boolean fits = f <= budget + 1e-12 && f >= budget - TOLERANCE;
                    if (fits && (best == null || f > best[0] + 1e-12 || Math.abs(f - best[0]) <= 1e-12
                            && cachedSteps(steps, k, n, from) < cachedSteps(steps, (int) best[1], (int) best[2],
                                    (int) best[3]))) {
                        best = cand;
                    }
                }
            }
        }
        if (best == null) {
            Plan min = describe(c, steps, (int) cheapest[1], q, (int) cheapest[2], (int) cheapest[3], cheapest[0], costs);
            throw new InvalidArgumentException(String.format(Locale.ROOT, "no plan of %d steps spends %.1f%% of the static "
                    + "compute within %.0f%% (the levers reach down to %.1f%%: %s)", steps, 100 * budget, 100 * TOLERANCE,
                    100 * min.fraction(), min));
        }
        return describe(c, steps, (int) best[1], q, (int) best[2], (int) best[3], best[0], costs);
    }

    /** Whether step s is computed in full (not served from the block cache), per-patch counters from cacheFrom on. */
    private static boolean full(int s, int k, int n, int from) {
        if (n <= 1 || s < from) {
            return true;
        }
        int first = s < k ? from : Math.max(k, from); // each patch size's cache starts at its first cached-eligible step
        return (s - first) % n == 0;
    }

    private static double fraction(int steps, int k, int n, int from, double[][] cost) {
        double total = 0;
        for (int s = 0; s < steps; s++) {
            total += cost[s][(s < k ? 2 : 0) + (full(s, k, n, from) ? 0 : 1)];
        }
        return total;
    }

    private static int cachedSteps(int steps, int k, int n, int from) {
        int cached = 0;
        for (int s = 0; s < steps; s++) {
            cached += full(s, k, n, from) ? 0 : 1;
        }
        return cached;
    }

    /** One sample's cached step at patch p: embeddings, every block's adaLN, the final layer (ForwardPass's count). */
    static double cachedStep(DiTConfig c, int p) {
        double t = Math.pow((double) c.inputSize() / p, 2), d = c.hiddenSize(), pp = (double) p * p;
        return t * d * c.inChannels() * pp + 256 * d + d * d + c.depth() * 6 * d * d + 2 * d * d
                + t * d * pp * c.outChannels();
    }

    private static Plan describe(DiTConfig c, int steps, int k, int q, int n, int from, double f, StepCosts costs) {
        List<String> rows = new ArrayList<>();
        for (int s = 0; s < steps; s++) {
            int patch = s < k ? q : c.patchSize();
            rows.add(String.format(Locale.ROOT, "step %d: patch %d, %s, %s", s, patch, costs.levers(s, patch),
                    full(s, k, n, from) ? "computed" : "cached"));
        }
        return new Plan(k, q, n, from, f, List.copyOf(rows));
    }
}
