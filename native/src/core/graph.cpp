// dd_graph_*: capture of a thread's ops on a CUDA device into a replayable graph, behind an opaque handle.
#include "backend.h"
#include "error.h"

struct dd_graph {
    const dd::Backend* backend;
    void* exec;
};

namespace {
const dd::Backend& graph_backend(int device_type, const char* where) {
    const dd::Backend& b = dd::backend_for(device_type);
    if (!b.graph_begin)
        throw dd::Error(DD_ERR_UNSUPPORTED, dd::format("%s: graphs are a CUDA feature; the %s backend runs ops as called",
                                                       where, b.name));
    return b;
}
}  // namespace

extern "C" {

dd_status dd_graph_begin(int device_type, int device_index) {
    return dd::guard("dd_graph_begin", [&]() -> dd_status {
        const dd::Backend& b = graph_backend(device_type, "dd_graph_begin");
        if (b.use_device)  // capture the stream the ops on that device will use
            if (dd_status s = b.use_device(device_index)) return s;
        return b.graph_begin();
    });
}

dd_status dd_graph_end(int device_type, dd_graph** out) {
    return dd::guard("dd_graph_end", [&]() -> dd_status {
        if (!out) return dd::fail(DD_ERR_INVALID_ARGUMENT, "dd_graph_end: out is NULL");
        *out = nullptr;
        const dd::Backend& b = graph_backend(device_type, "dd_graph_end");
        void* exec = nullptr;
        if (dd_status st = b.graph_end(&exec)) return st;
        *out = new dd_graph{&b, exec};
        return DD_OK;
    });
}

dd_status dd_graph_launch(dd_graph* g) {
    return dd::guard("dd_graph_launch", [&]() -> dd_status {
        if (!g) return dd::fail(DD_ERR_INVALID_ARGUMENT, "dd_graph_launch: graph is NULL");
        return g->backend->graph_launch(g->exec);
    });
}

void dd_graph_free(dd_graph* g) {
    if (!g) return;
    g->backend->graph_free(g->exec);
    delete g;
}

}  // extern "C"
