package io.dyndit.model;

import io.dyndit.core.Device;
import java.util.HashMap;
import java.util.Map;

/**
 * What one caller of a shared {@link DiTModel} mutates during a forward: the workspaces per batch size and patch,
 * the packed workspaces, the CUDA graphs captured on them, the device row buffers and the pass's per-block MAC
 * counters. A model keeps a bounded pool of these; one thread uses a context at a time.
 */
final class ExecutionContext implements AutoCloseable {
    final ForwardPass pass;
    final ForwardGraphs graphs;
    final DeviceRows rows;
    private final DiTConfig config;
    private final Device device;
    private final Map<Long, ForwardWorkspace> workspaces = new HashMap<>();
    private final Map<Long, PackedWorkspace> packed = new HashMap<>();
    private float[] upcoming; // the reserving generation's timesteps, or null
    private int cursor;       // where the last one was found
    private final Map<ForwardWorkspace, ForwardCache> caches = new HashMap<>(); // per workspace, reused across generations

    ExecutionContext(DiTConfig config, Device device, ForwardPass pass, ForwardGraphs graphs) {
        this.graphs = graphs;
        this.config = config;
        this.device = device;
        this.pass = pass;
        this.rows = new DeviceRows(device);
    }

    ForwardWorkspace workspace(int n, PatchGeometry g) {
        return workspaces.computeIfAbsent(n * 1024L + g.patch(), k -> new ForwardWorkspace(config, g, device, n));
    }

    PackedWorkspace packedWorkspace(int n, PatchGeometry gc, PatchGeometry gu) {
        return packed.computeIfAbsent(((long) n * 1024 + gc.patch()) * 1024 + gu.patch(),
                k -> new PackedWorkspace(config, gc, gu, device, n));
    }

    /** A generation's model timesteps in step order (null: none announced; forwards make their own adaLN). */
    void upcoming(long[] modelTimesteps) {
        if (modelTimesteps == null) {
            upcoming = null;
            return;
        }
        upcoming = new float[modelTimesteps.length];
        for (int k = 0; k < upcoming.length; k++) {
            upcoming[k] = modelTimesteps[k];
        }
        cursor = 0;
    }

    /**
     * Before a forward on ws at timesteps t and labels y: points ws at its rows of the conditioning table, made for the
     * window of announced steps starting at t's when they are not there yet, or at none (-1: the forward makes them)
     * when the conditioning is not row-invariant, no generation announced its timesteps, the batch mixes timesteps,
     * t is not among them or no table fits.
     */
    void prepareConditioning(ForwardWorkspace ws, float[] t, long[] y, boolean rowInvariant, DiTWeights w) {
        ws.conditioningSlot = -1;
        if (!rowInvariant || upcoming == null || t.length == 0) {
            return;
        }
        for (float v : t) {
            if (v != t[0]) {
                return;
            }
        }
        int k = find(t[0]);
        ConditioningTable table = k < 0 ? null : ws.conditioning();
        if (table == null) {
            return;
        }
        int s = table.slot(t[0], y);
        ws.conditioningSlot = s >= 0 ? s : table.fill(upcoming, k, y, w);
    }

    /** The first announced step at or after the last one found with timestep v (wrapping), or -1. */
    private int find(float v) {
        for (int i = 0; i < upcoming.length; i++) {
            int k = (cursor + i) % upcoming.length;
            if (upcoming[k] == v) {
                cursor = k;
                return k;
            }
        }
        return -1;
    }

    /** The generation's cache of {@code spec} for ws, planned on its first step; null when spec caches nothing. */
    ForwardCache cache(CacheSpec spec, ForwardWorkspace ws) {
        if (spec == null || spec.kind() == CacheSpec.Kind.NONE || spec.kind() == CacheSpec.Kind.TOKEN && !spec.enabled()) {
            return null;
        }
        ForwardCache c = caches.get(ws);
        if (c == null || !c.spec.equals(spec)) {
            if (c != null) {
                c.close();
            }
            c = new ForwardCache(spec, ws, config, device);
            caches.put(ws, c);
        }
        return c;
    }

    /**
     * A new generation starts: no cached value carries over, but each workspace's cache keeps its buffers for the
     * next generation that caches the same way (planning and first touching them again costs about one full step:
     * ~100 MB for DiT-B/2 token caching at batch 2); a generation that caches another way replaces them.
     */
    void resetCaches() {
        for (ForwardCache c : caches.values()) {
            c.reset();
        }
    }

    /** Frees every cache's buffers. */
    private void closeCaches() {
        for (ForwardCache c : caches.values()) {
            c.close();
        }
        caches.clear();
    }

    @Override
    public void close() {
        closeCaches();
        graphs.close();
        rows.close();
        for (ForwardWorkspace ws : workspaces.values()) {
            ws.close();
        }
        workspaces.clear();
        for (PackedWorkspace ws : packed.values()) {
            ws.close();
        }
        packed.clear();
    }
}
