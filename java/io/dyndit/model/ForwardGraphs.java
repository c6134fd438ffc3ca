package io.dyndit.model;

import io.dyndit.core.CudaGraph;
import io.dyndit.core.Device;
import io.dyndit.core.Precision;
import io.dyndit.plan.LayerPlan;
import io.dyndit.plan.StepPlan;
import java.util.HashMap;
import java.util.Map;

/**
 * One execution context's forwards captured as CUDA graphs: one per workspace, step plan and GEMM precision (which fix every
 * launch), captured on first use and replayed afterwards, so a step costs one graph launch instead of ~15 per block.
 */
final class ForwardGraphs implements AutoCloseable {
    private record Key(long workspace, StepPlan plan, Precision precision) {}

    private record Captured(CudaGraph graph, double macs, double[] attn, double[] mlp) {}

    private static final System.Logger LOG = System.getLogger("io.dyndit.model");
    private final Map<Key, Captured> graphs = new HashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger captures; // the model's count over all its contexts

    ForwardGraphs(java.util.concurrent.atomic.AtomicInteger captures) {
        this.captures = captures;
    }

    /**
     * Whether a plan's forward reads nothing back to the host, so it can be a graph: DyDiT's token router returns
     * its kept-token counts; DiffCR's top-k has a fixed k and is read back only to trace.
     */
    static boolean hostFree(StepPlan plan, boolean traced) {
        for (int i = 0; i < plan.depth(); i++) {
            LayerPlan.TokenRouting routing = plan.layer(i).routing();
            if (routing == LayerPlan.TokenRouting.MLP_THRESHOLD || routing == LayerPlan.TokenRouting.TOP_K && traced) {
                return false;
            }
        }
        return true;
    }

    /**
     * Replays the pass over ws under plan; the output is in ws.out. On first use the pass runs op by op (its result is
     * this call's) and is then captured, not launched, for later calls: the eager run makes what a capture may not
     * allocate (the CUDA backend's bf16 weight copies), so the graph reads them too.
     */
    DiTModel.Result run(Device device, ForwardPass pass, ForwardWorkspace ws, long wsKey, StepPlan plan, Precision p,
            DynamicTrace trace) {
        Key key = new Key(wsKey, plan, p);
        Captured f = graphs.get(key);
        if (f == null) {
            double macs = pass.run(ws, plan, ForwardObserver.NONE, trace);
            double[] attn = pass.attnMacs.clone(), mlp = pass.mlpMacs.clone();
            CudaGraph graph = CudaGraph.capture(device, () -> pass.run(ws, plan, ForwardObserver.NONE, null));
            graphs.put(key, new Captured(graph, macs, attn, mlp));
            int total = captures.incrementAndGet();
            LOG.log(System.Logger.Level.DEBUG, () -> "captured CUDA graph " + total + " on " + device + ": batch "
                    + ws.batch + ", patch " + ws.geometry.patch() + ", " + p + ", " + plan.depth() + " blocks");
            return new DiTModel.Result(null, trace, macs, attn.clone(), mlp.clone(), 0);
        } else if (trace != null) { // a replay decides nothing new: the plan's widths are the trace
            for (int i = 0; i < plan.depth(); i++) {
                trace.recordWidth(i, plan.layer(i));
            }
        }
        f.graph().launch();
        return new DiTModel.Result(null, trace, f.macs(), f.attn().clone(), f.mlp().clone(), 0);
    }

    int size() {
        return graphs.size();
    }

    @Override
    public void close() {
        for (Captured f : graphs.values()) {
            f.graph().close();
        }
        graphs.clear();
    }
}
