package io.dyndit.model;

import io.dyndit.core.InvalidArgumentException;
import io.dyndit.plan.StepPlan;

/**
 * FlexiDiT's step schedule: loop steps {@code k < kCond} run the conditional branch at the weak patch size q,
 * {@code k < kGuide} the guidance branch ({@code kGuide >= kCond}), later steps the native patch. {@code weakScale} is
 * s_w for weak-guidance steps (NaN: 1 - (1 - s)/2.5).
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record FlexiSchedule(int patch, int kCond, int kGuide, double weakScale) {
    public FlexiSchedule {
        if (kCond < 0 || kGuide < kCond) {
            throw new InvalidArgumentException("FlexiDiT schedule needs 0 <= K_c <= K_u, got K_c = " + kCond + ", K_u = "
                    + kGuide);
        }
    }

    /** The branch patch sizes of loop step {@code step} on top of {@code base} (native patch p). */
    public StepPlan apply(StepPlan base, int step, int nativePatch) {
        return base.withPatches(step < kCond ? patch : nativePatch, step < kGuide ? patch : nativePatch);
    }

    /**
     * The schedule with K_c = K_u whose executed MACs are at most {@code fraction} of the static run over
     * {@code steps} steps: K = ceil((1 - f) S / (1 - macs_q / macs_p)), at most S.
     */
    public static FlexiSchedule forBudget(DiTConfig c, int q, int steps, double fraction, double weakScale) {
        if (!(fraction > 0 && fraction <= 1)) {
            throw new InvalidArgumentException("compute budget must be in (0, 1], got " + fraction);
        }
        double ratio = macsAt(c, q) / DiTMacs.total(c);
        int k = (int) Math.min(steps, Math.ceil((1 - fraction) * steps / (1 - ratio) - 1e-9));
        return new FlexiSchedule(q, k, k, weakScale);
    }

    /** MACs of one forward of one sample at patch size q. */
    public static double macsAt(DiTConfig c, int q) {
        double t = Math.pow((double) c.inputSize() / q, 2), d = c.hiddenSize(), m = c.mlpHidden();
        double pp = (double) q * q;
        return t * d * c.inChannels() * pp + t * d * pp * c.outChannels()
                + c.depth() * (t * (4 * d * d + 2 * d * m) + 2 * t * t * d + 6 * d * d) + 256 * d + 3 * d * d;
    }
}
