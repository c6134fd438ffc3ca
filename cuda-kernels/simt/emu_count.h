// Counting half of the emulator's memory operations (emu_counters.h): per-thread access logs folded into
// warp requests, shared-memory wavefronts by the bank rules, global sectors. Internal to emu_mem.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "emu_counters.h"

namespace dd::simt::emu {

struct Access {
    const char* file;
    int line;
    uintptr_t addr;
    uint8_t bytes;
    uint8_t kind;
};

// Adds the requests of logs[0..nthreads) (one log per thread, in thread order) to c and clears the logs:
// each warp's lanes are matched by (site, n-th execution of the site by the lane).
void fold_logs(Counters& c, std::vector<Access>* logs, unsigned nthreads);

// One shared-memory request of `lanes` lanes (addresses, sizes, active flags) in phases of per_phase lanes.
void count_smem_request(Counters& c, const uintptr_t* addr, const uint8_t* bytes, const bool* active, int lanes,
                        int per_phase);

}  // namespace dd::simt::emu
