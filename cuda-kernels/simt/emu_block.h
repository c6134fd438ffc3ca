// Internal interface between the two halves of the emulator runtime: emu_block.cpp runs one block
// on the calling OS thread (fibers, barrier, warp collectives), emu_launch.cpp checks launches and
// hands their blocks to a pool of OS threads.
#pragma once
#include <cstdint>
#include <string>

#include "emu_api.h"

namespace dd::simt::emu {

struct BlockJob {
    const LaunchSpec* spec;
    unsigned nthreads;
    Schedule schedule;
    uint64_t seed;  // random schedule: each block's order derives from (seed, block number)
};

// Runs block number b (x fastest) of the job on the calling OS thread. On failure returns false
// with "block (x,y,z): what went wrong" in *error.
bool run_block(const BlockJob& job, uint64_t b, std::string* error);

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace dd::simt::emu
