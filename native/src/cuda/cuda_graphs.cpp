// CUDA graphs: stream capture of this thread's ops on its current device's stream, instantiation, replay.
#include "backend_cuda_parts.h"
#include "cuda_context.h"

namespace dd::cuda_impl {

dd_status graph_begin() {
    return check_launch(cudaStreamBeginCapture(stream(), cudaStreamCaptureModeThreadLocal), "graph capture (begin)");
}

dd_status graph_end(void** out) {
    *out = nullptr;
    cudaGraph_t graph = nullptr;
    if (dd_status st = check_launch(cudaStreamEndCapture(stream(), &graph), "graph capture (end)")) {
        if (graph) cudaGraphDestroy(graph);
        return st;
    }
    cudaGraphExec_t exec = nullptr;
    const cudaError_t e = cudaGraphInstantiate(&exec, graph, 0ULL);
    cudaGraphDestroy(graph);  // the executable graph keeps what it needs
    if (dd_status st = check_launch(e, "graph instantiate")) return st;
    *out = exec;
    return DD_OK;
}

dd_status graph_launch(void* exec) {
    return check_launch(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec), stream()), "graph launch");
}

void graph_free(void* exec) {
    if (exec) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec));
}

}  // namespace dd::cuda_impl
