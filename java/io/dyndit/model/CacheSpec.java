package io.dyndit.model;

import io.dyndit.core.InvalidArgumentException;
import java.util.Locale;

/**
 * Training-free caching across sampling steps (definitions and sources: docs/caching.md):
 * <ul>
 * <li>{@code step:T} (TeaCache-like): each step measures the relative L1 change of block 0's modulated input
 * (LayerNorm(h)·(1 + scale) + shift after the embeddings) since the previous step and adds it up; while the sum stays
 * below T the step skips every block and adds the residual (blocks' output − input) of the last computed step; when it
 * reaches T the step runs the network, stores its residual and the sum restarts. T = 0 never skips.</li>
 * <li>{@code block:N} (FORA-like): every N-th step (from the first) runs the network and keeps each block's attention
 * and MLP branch outputs (before their gates); the steps between reuse them, each with its own step's adaLN gates.
 * Blocks with token routing (DyDiT tokens, DiffCR) always run. N = 1 never reuses.</li>
 * </ul>
 * Both treat the guidance batch [cond; uncond] as one.
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record CacheSpec(Kind kind, double threshold, int interval, int fromStep) {
    /** What is cached. */
    public enum Kind { NONE, STEP, BLOCK }

    public static final CacheSpec NONE = new CacheSpec(Kind.NONE, 0, 1);

    /** Caching from the first step on. */
    public CacheSpec(Kind kind, double threshold, int interval) {
        this(kind, threshold, interval, 0);
    }

    /** The same cache, active only from loop step {@code step} on (the steps before run uncached). */
    public CacheSpec from(int step) {
        return new CacheSpec(kind, threshold, interval, step);
    }

    public CacheSpec {
        if (fromStep < 0) {
            throw new InvalidArgumentException("cache start step must be >= 0, got " + fromStep);
        }
        if (kind == Kind.STEP && !(threshold >= 0 && threshold <= 10)) {
            throw new InvalidArgumentException("step cache threshold must be in [0, 10], got " + threshold);
        }
        if (kind == Kind.BLOCK && (interval < 1 || interval > 1000)) {
            throw new InvalidArgumentException("block cache interval must be in [1, 1000] steps, got " + interval);
        }
    }

    /** "none", "step:0.1" or "block:3". */
    public static CacheSpec parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("none")) {
            return NONE;
        }
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon), value = colon < 0 ? "" : s.substring(colon + 1);
        try {
            return switch (kind) {
                case "step" -> new CacheSpec(Kind.STEP, Double.parseDouble(value), 1);
                case "block" -> new CacheSpec(Kind.BLOCK, 0, Integer.parseInt(value));
                default -> throw new InvalidArgumentException("unknown cache '" + spec
                        + "' (expected none, step:THRESHOLD or block:N)");
            };
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("cache '" + spec + "': '" + value + "' is not a "
                    + (kind.equals("step") ? "number" : "whole number of steps"));
        }
    }

    public boolean enabled() {
        return kind == Kind.STEP && threshold > 0 || kind == Kind.BLOCK && interval > 1;
    }

    @Override
    public String toString() {
        String s = kind == Kind.NONE ? "none" : kind == Kind.STEP ? "step:" + threshold : "block:" + interval;
        return fromStep > 0 && kind != Kind.NONE ? s + " from step " + fromStep : s;
    }
}
