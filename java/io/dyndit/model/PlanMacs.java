package io.dyndit.model;

import io.dyndit.plan.LayerPlan;
import io.dyndit.plan.StepPlan;

/**
 * Multiply-accumulates of one sample's forward at a patch size under a step plan, counted as the forward counts
 * them (ForwardPass): width-sliced blocks by their heads and groups, DiffCR blocks by their k, DyDiT's routed MLP at
 * every token (an upper bound: which tokens run is decided by the data) plus its router; and of a block-cached step
 * (embeddings, every block's adaLN, the routed blocks in full, the final layer). The budget planner's cost model.
 *
 * <p>Thread-safety: stateless static functions, safe to call from any thread.
 */
final class PlanMacs {
    private PlanMacs() {}

    /** A full forward of one sample at patch p under plan. */
    static double full(DiTConfig c, int p, StepPlan plan) {
        double total = ends(c, p);
        for (int i = 0; i < c.depth(); i++) {
            total += block(c, p, plan.layer(i));
        }
        return total;
    }

    /** A block-cached step of one sample at patch p: blocks that route tokens still run (as ForwardPass does). */
    static double cached(DiTConfig c, int p, StepPlan plan) {
        double total = ends(c, p);
        for (int i = 0; i < c.depth(); i++) {
            LayerPlan lp = plan.layer(i);
            boolean runs = lp.routing() == LayerPlan.TokenRouting.TOP_K || lp.routeTokens();
            total += runs ? block(c, p, lp) : adaLN(c);
        }
        return total;
    }

    /** Embeddings and the final layer (adaLN + linear). */
    private static double ends(DiTConfig c, int p) {
        double t = tokens(c, p), d = c.hiddenSize(), pp = (double) p * p;
        return t * d * c.inChannels() * pp + 256 * d + d * d + 2 * d * d + t * d * pp * c.outChannels();
    }

    private static double adaLN(DiTConfig c) {
        return 6.0 * c.hiddenSize() * c.hiddenSize();
    }

    private static double tokens(DiTConfig c, int p) {
        return Math.pow((double) c.inputSize() / p, 2);
    }

    private static double block(DiTConfig c, int p, LayerPlan lp) {
        double t = tokens(c, p), d = c.hiddenSize(), m = c.mlpHidden();
        if (lp.routing() == LayerPlan.TokenRouting.TOP_K) {
            double k = lp.topK();
            return adaLN(c) + k * 4 * d * d + 2 * k * k * d + t * d + k * 2 * d * m;
        }
        double active = (double) lp.headCount(c.numHeads()) * c.headDim();
        double mlp = lp.allGroups() ? m : (double) lp.groupCount(c.numHeads()) * (m / c.numHeads());
        double router = lp.routeTokens() ? t * (d * (c.hiddenSize() / 16) + c.hiddenSize() / 16) : 0;
        return adaLN(c) + t * 4 * d * active + 2 * t * t * active + router + t * 2 * d * mlp;
    }
}
