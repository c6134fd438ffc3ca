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

    @Override
    public void close() {
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
