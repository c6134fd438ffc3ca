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
 * <li>{@code block:N[,order=1]} (FORA-like; order 1 TaylorSeer-like): every N-th step (from the first) runs the
 * network and keeps each block's attention and MLP branch outputs (before their gates); the steps between reuse them
 * (order 0) or extrapolate them linearly from the last two full steps (order 1), each with its own step's adaLN gates.
 * Blocks with token routing (DyDiT tokens, DiffCR) always run. N = 1 never reuses.</li>
 * <li>{@code token:F[,refresh=N]} (ToCa-like): every N-th step is full; on the steps between, each block recomputes
 * only the fraction F of each sample's tokens with the highest cache score (attention mass the token received at the
 * last full step + its staleness) and reuses the cached branch outputs of the others. F = 1 never reuses.</li>
 * </ul>
 * All treat the guidance batch [cond; uncond] as one batch (token selection is per sample row).
 *
 * <p>Thread-safety: immutable record, safe to share.
 */
public record CacheSpec(Kind kind, double threshold, int interval, int fromStep, int order, double fraction) {
    /** What is cached. */
    public enum Kind { NONE, STEP, BLOCK, TOKEN }

    public static final CacheSpec NONE = new CacheSpec(Kind.NONE, 0, 1);

    /** Token caching's full-step interval when the spec does not say (refresh=N). */
    public static final int DEFAULT_TOKEN_REFRESH = 3;

    /** Caching from the first step on, order 0, every token. */
    public CacheSpec(Kind kind, double threshold, int interval) {
        this(kind, threshold, interval, 0, 0, 1.0);
    }

    /** The same cache, active only from loop step {@code step} on (the steps before run uncached). */
    public CacheSpec from(int step) {
        return new CacheSpec(kind, threshold, interval, step, order, fraction);
    }

    public CacheSpec {
        if (fromStep < 0) {
            throw new InvalidArgumentException("cache start step must be >= 0, got " + fromStep);
        }
        if (kind == Kind.STEP && !(threshold >= 0 && threshold <= 10)) {
            throw new InvalidArgumentException("step cache threshold must be in [0, 10], got " + threshold);
        }
        if ((kind == Kind.BLOCK || kind == Kind.TOKEN) && (interval < 1 || interval > 1000)) {
            throw new InvalidArgumentException((kind == Kind.BLOCK ? "block cache interval" : "token cache refresh")
                    + " must be in [1, 1000] steps, got " + interval);
        }
        if (order != 0 && (kind != Kind.BLOCK || order != 1)) {
            throw new InvalidArgumentException("cache order must be 0 or 1 (block caching only), got " + order);
        }
        if (kind == Kind.TOKEN && !(fraction > 0 && fraction <= 1)) {
            throw new InvalidArgumentException("token cache fraction must be in (0, 1], got " + fraction);
        }
    }

    /** "none", "step:0.1", "block:3", "block:3,order=1", "token:0.3" or "token:0.3,refresh=4". */
    public static CacheSpec parse(String spec) {
        String s = spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("none")) {
            return NONE;
        }
        int colon = s.indexOf(':');
        String kind = colon < 0 ? s : s.substring(0, colon), rest = colon < 0 ? "" : s.substring(colon + 1);
        String[] parts = rest.split(",", -1);
        String value = parts[0].trim();
        try {
            CacheSpec c = switch (kind) {
                case "step" -> new CacheSpec(Kind.STEP, Double.parseDouble(value), 1);
                case "block" -> new CacheSpec(Kind.BLOCK, 0, Integer.parseInt(value), 0,
                        option(spec, parts, "order", 0), 1.0);
                case "token" -> new CacheSpec(Kind.TOKEN, 0, option(spec, parts, "refresh", DEFAULT_TOKEN_REFRESH), 0, 0,
                        Double.parseDouble(value));
                default -> throw new InvalidArgumentException("unknown cache '" + spec
                        + "' (expected none, step:THRESHOLD, block:N[,order=1] or token:FRACTION[,refresh=N])");
            };
            if (kind.equals("step") && parts.length > 1) {
                throw new InvalidArgumentException("cache '" + spec + "': step:THRESHOLD takes no options");
            }
            return c;
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("cache '" + spec + "': '" + value + "' is not a "
                    + (kind.equals("block") ? "whole number of steps" : "number"));
        }
    }

    /** The value of {@code name=V} among the options after the first comma (each at most once), or {@code dflt}. */
    private static int option(String spec, String[] parts, String name, int dflt) {
        int value = dflt;
        boolean seen = false;
        for (int i = 1; i < parts.length; i++) {
            String p = parts[i].trim();
            int eq = p.indexOf('=');
            if (eq < 0 || !p.substring(0, eq).trim().equals(name) || seen) {
                throw new InvalidArgumentException("cache '" + spec + "': unexpected option '" + p + "' (expected "
                        + name + "=N, once)");
            }
            String v = p.substring(eq + 1).trim();
            try {
                value = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("cache '" + spec + "': " + name + " '" + v + "' is not a whole number");
            }
            seen = true;
        }
        return value;
    }

    public boolean enabled() {
        return kind == Kind.STEP && threshold > 0 || kind == Kind.BLOCK && interval > 1
                || kind == Kind.TOKEN && interval > 1 && fraction < 1;
    }

    @Override
    public String toString() {
        String s = switch (kind) {
            case NONE -> "none";
            case STEP -> "step:" + threshold;
            case BLOCK -> "block:" + interval + (order == 1 ? ",order=1" : "");
            case TOKEN -> "token:" + fraction + (interval != DEFAULT_TOKEN_REFRESH ? ",refresh=" + interval : "");
        };
        return fromStep > 0 && kind != Kind.NONE ? s + " from step " + fromStep : s;
    }
}
