// Host-built varlen attention tables, uploaded asynchronously (varlen_tables.h).
#include "varlen_tables.h"

#include <algorithm>
#include <memory>
#include <vector>

namespace dd::cuda_impl {
namespace {

// One layout's tables: [cu_seqlens | padding to 16 B | tiles] in pinned host memory and on the device.
struct Upload {
    std::vector<int32_t> key;  // cu_seqlens then tile_rows
    void* host = nullptr;      // pinned
    void* dev = nullptr;
    size_t cap = 0;
    cudaEvent_t copied = nullptr;  // the last copy out of `host` (host may be rewritten once it completed)
    bool captured = false;         // read by a captured graph: never rewritten
    int n_tiles = 0;
    size_t tiles_at = 0;  // byte offset of the tiles
    ~Upload() {
        if (copied) cudaEventDestroy(copied);
        cudaFreeHost(host);
        cudaFree(dev);
    }
};

// This thread's uploads; the most recently used first. Uncaptured ones beyond kKept are reused for new layouts.
constexpr size_t kKept = 4;
thread_local std::vector<std::unique_ptr<Upload>> t_uploads;

dd_status cuda_fail(cudaError_t e, const char* what) { return check_launch(e, what); }

}  // namespace

dd_status varlen_tables(const int32_t* cu, int B, int tile_rows, VarlenTables* out) {
    const char* name = "attention_varlen (cu_seqlens and tile table upload)";
    std::vector<int32_t> key(cu, cu + B + 1);
    key.push_back(tile_rows);
    cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
    if (cudaError_t e = cudaStreamIsCapturing(stream(), &capture)) return cuda_fail(e, name);
    const bool capturing = capture != cudaStreamCaptureStatusNone;

    auto hit = std::find_if(t_uploads.begin(), t_uploads.end(), [&](const auto& u) { return u->key == key; });
    if (hit == t_uploads.end() && capturing)
        return fail(DD_ERR_UNSUPPORTED, "CUDA kernel attention_varlen: a packed layout (cu_seqlens) first seen during a "
                                        "CUDA graph capture; run the op once before capturing it");
    if (hit == t_uploads.end()) {
        std::vector<ck::AttentionTile> tiles;
        if (!ck::build_attention_tiles(cu, B, tile_rows, tiles))
            return fail(DD_ERR_UNSUPPORTED, "CUDA kernel attention_varlen: more than 2^31 - 1 query tiles");
        const size_t tiles_at = ((size_t)(B + 1) * sizeof(int32_t) + 15) / 16 * 16;
        const size_t bytes = tiles_at + tiles.size() * sizeof(ck::AttentionTile);
        // Reuse the least recently used uncaptured upload when enough are kept, else a new one.
        Upload* u = nullptr;
        size_t uncaptured = 0;
        for (const auto& e : t_uploads) uncaptured += !e->captured;
        if (uncaptured >= kKept) {
            for (auto it = t_uploads.rbegin(); it != t_uploads.rend(); ++it)
                if (!(*it)->captured) {
                    u = it->get();
                    break;
                }
            // Its host memory may still be the source of a copy in flight.
            if (cudaError_t e = cudaEventSynchronize(u->copied)) return cuda_fail(e, name);
        } else {
            t_uploads.push_back(std::make_unique<Upload>());
            u = t_uploads.back().get();
            if (cudaError_t e = cudaEventCreateWithFlags(&u->copied, cudaEventDisableTiming)) {
                t_uploads.pop_back();
                return cuda_fail(e, name);
            }
        }
        if (bytes > u->cap) {
            cudaFreeHost(u->host);
            cudaFree(u->dev);
            u->host = u->dev = nullptr;
            u->cap = 0;
            u->key.clear();
            const size_t want = std::max<size_t>(4096, bytes + bytes / 2);
            if (cudaError_t e = cudaMallocHost(&u->host, want)) return cuda_fail(e, name);
            if (cudaError_t e = cudaMalloc(&u->dev, want)) return cuda_fail(e, name);
            u->cap = want;
        }
        std::copy(cu, cu + B + 1, static_cast<int32_t*>(u->host));
        std::copy(tiles.begin(), tiles.end(),
                  reinterpret_cast<ck::AttentionTile*>(static_cast<char*>(u->host) + tiles_at));
        u->key.clear();  // a failed copy leaves no layout behind
        if (cudaError_t e = cudaMemcpyAsync(u->dev, u->host, bytes, cudaMemcpyHostToDevice, stream()))
            return cuda_fail(e, name);
        if (cudaError_t e = cudaEventRecord(u->copied, stream())) return cuda_fail(e, name);
        u->key = std::move(key);
        u->n_tiles = (int)tiles.size();
        u->tiles_at = tiles_at;
        hit = std::find_if(t_uploads.begin(), t_uploads.end(), [&](const auto& e) { return e.get() == u; });
    }
    std::rotate(t_uploads.begin(), hit, hit + 1);  // most recently used first
    Upload& u = *t_uploads.front();
    u.captured = u.captured || capturing;
    out->cu_seqlens = static_cast<const int32_t*>(u.dev);
    out->tiles = reinterpret_cast<const ck::AttentionTile*>(static_cast<const char*>(u.dev) + u.tiles_at);
    out->n_tiles = u.n_tiles;
    return DD_OK;
}

}  // namespace dd::cuda_impl
