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
