// Access logs folded into warp requests and what they cost (emu_count.h, emu_counters.h).
#include "emu_count.h"

#include <algorithm>
#include <utility>

#include "emu_mem.h"

namespace dd::simt::emu {

void Counters::add(const Counters& o, double w) {
    mma_bf16 += w * o.mma_bf16;
    mma_f16 += w * o.mma_f16;
    mma_tf32 += w * o.mma_tf32;
    mma_flops += w * o.mma_flops;
    ldmatrix_x1 += w * o.ldmatrix_x1;
    ldmatrix_x2 += w * o.ldmatrix_x2;
    ldmatrix_x4 += w * o.ldmatrix_x4;
    ldmatrix_trans += w * o.ldmatrix_trans;
    cp_async_4 += w * o.cp_async_4;
    cp_async_8 += w * o.cp_async_8;
    cp_async_16 += w * o.cp_async_16;
    cp_async_cg += w * o.cp_async_cg;
    cp_async_commits += w * o.cp_async_commits;
    cp_async_waits += w * o.cp_async_waits;
    smem_requests += w * o.smem_requests;
    smem_wavefronts += w * o.smem_wavefronts;
    smem_conflict_wavefronts += w * o.smem_conflict_wavefronts;
    global_requests += w * o.global_requests;
    global_bytes += w * o.global_bytes;
    global_sectors += w * o.global_sectors;
    global_store_sectors += w * o.global_store_sectors;
    barriers += w * o.barriers;
    blocks += w * o.blocks;
}

namespace {

// Wavefronts of one shared-memory request: lanes split into phases of `per_phase` lanes; per phase, the
// most-hit bank's count of distinct words. Returns {wavefronts, phases used}.
std::pair<int, int> wavefronts(const uintptr_t* addr, const uint8_t* bytes, const bool* active, int lanes,
                               int per_phase) {
    int total = 0, phases = 0;
    for (int p0 = 0; p0 < lanes; p0 += per_phase) {
        uintptr_t words[32 * 4];
        int nw = 0;
        for (int l = p0; l < std::min(lanes, p0 + per_phase); ++l) {
            if (!active[l]) continue;
            for (uintptr_t w = addr[l] / 4; w <= (addr[l] + bytes[l] - 1) / 4; ++w) words[nw++] = w;
        }
        if (nw == 0) continue;
        std::sort(words, words + nw);
        nw = (int)(std::unique(words, words + nw) - words);
        int per_bank[32] = {0};
        int worst = 0;
        for (int i = 0; i < nw; ++i) worst = std::max(worst, ++per_bank[words[i] % 32]);
        total += worst;
        ++phases;
    }
    return {total, phases};
}

}  // namespace

void count_smem_request(Counters& c, const uintptr_t* addr, const uint8_t* bytes, const bool* active, int lanes,
                        int per_phase) {
    const auto wp = wavefronts(addr, bytes, active, lanes, per_phase);
    c.smem_requests += 1;
    c.smem_wavefronts += wp.first;
    c.smem_conflict_wavefronts += wp.first - wp.second;
}

namespace {

struct Req {
    const char* file;
    int line;
    uint32_t occurrence;
    uint8_t kind;
    uint8_t lane;
    uint8_t bytes;
    uintptr_t addr;
};

void fold_group(Counters& c, const Req* r, size_t n) {
    uintptr_t addr[32] = {0};
    uint8_t bytes[32] = {0};
    bool active[32] = {false};
    int widest = 0;
    for (size_t i = 0; i < n; ++i) {
        addr[r[i].lane] = r[i].addr;
        bytes[r[i].lane] = r[i].bytes;
        active[r[i].lane] = true;
        widest = std::max<int>(widest, r[i].bytes);
    }
    if (r[0].kind == kSmemLoad || r[0].kind == kSmemStore) {
        count_smem_request(c, addr, bytes, active, 32, widest <= 4 ? 32 : widest == 8 ? 16 : 8);
        return;
    }
    uintptr_t sectors[64];
    int ns = 0;
    for (size_t i = 0; i < n; ++i) {
        c.global_bytes += r[i].bytes;
        for (uintptr_t s = r[i].addr / 32; s <= (r[i].addr + r[i].bytes - 1) / 32; ++s) sectors[ns++] = s;
    }
    std::sort(sectors, sectors + ns);
    c.global_requests += 1;
    const double distinct = (double)(std::unique(sectors, sectors + ns) - sectors);
    c.global_sectors += distinct;
    if (r[0].kind == kGlobalStore) c.global_store_sectors += distinct;
}

}  // namespace

void fold_logs(Counters& c, std::vector<Access>* logs, unsigned nthreads) {
    std::vector<Req> reqs;
    for (unsigned w0 = 0; w0 < nthreads; w0 += 32) {
        reqs.clear();
        for (unsigned l = w0; l < std::min(nthreads, w0 + 32); ++l) {
            std::vector<Access>& log = logs[l];
            // n-th execution of each site by this lane (sites are few: a linear scan beats a map)
            std::vector<std::pair<const Access*, uint32_t>> seen;
            for (const Access& a : log) {
                uint32_t occ = 0;
                auto it = std::find_if(seen.begin(), seen.end(), [&](const auto& s) {
                    return s.first->line == a.line && s.first->file == a.file &&
                           s.first->kind == a.kind;
                });
                if (it == seen.end()) seen.push_back({&a, 1});
                else occ = it->second++;
                reqs.push_back(Req{a.file, a.line, occ, a.kind, (uint8_t)(l - w0), a.bytes, a.addr});
            }
        }
        std::sort(reqs.begin(), reqs.end(), [](const Req& a, const Req& b) {
            if (a.file != b.file) return a.file < b.file;
            if (a.line != b.line) return a.line < b.line;
            if (a.kind != b.kind) return a.kind < b.kind;
            if (a.occurrence != b.occurrence) return a.occurrence < b.occurrence;
            return a.lane < b.lane;
        });
        for (size_t i = 0; i < reqs.size();) {
            size_t j = i + 1;
            while (j < reqs.size() && reqs[j].file == reqs[i].file && reqs[j].line == reqs[i].line && reqs[j].kind == reqs[i].kind &&
                   reqs[j].occurrence == reqs[i].occurrence)
                ++j;
            fold_group(c, &reqs[i], j - i);
            i = j;
        }
        for (unsigned l = w0; l < std::min(nthreads, w0 + 32); ++l) logs[l].clear();
    }
}

}  // namespace dd::simt::emu
