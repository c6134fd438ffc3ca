// The packed (varlen) attention's launch tables on the device: cu_seqlens and the host-built query-tile table,
// uploaded by an asynchronous copy from pinned memory on the thread's stream.
#pragma once
#include <cstdint>

#include "attention_varlen.cuh"
#include "cuda_context.h"

namespace dd::cuda_impl {

struct VarlenTables {
    const int32_t* cu_seqlens = nullptr;        // device, B + 1 entries
    const ck::AttentionTile* tiles = nullptr;  // device, n_tiles entries
    int n_tiles = 0;
};

// cu_seqlens: host array of B + 1 (checked by the caller); tile_rows: ck::attention_query_tile of the launch.
// Per host thread, the tables of recent layouts stay on the device: a layout seen before costs nothing (a packed
// forward passes the same one to every block). A new layout is written to pinned memory and copied with
// cudaMemcpyAsync, ordered on the thread's stream before the kernel (no host stall, capturable).
// During a graph capture only a layout uploaded before can be used (nothing may be allocated then); its buffers
// are then kept for the thread's lifetime, since the graph reads them at every replay.
dd_status varlen_tables(const int32_t* cu_seqlens, int B, int tile_rows, VarlenTables* out);

}  // namespace dd::cuda_impl
