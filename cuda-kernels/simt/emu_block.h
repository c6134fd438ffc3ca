// Internal interface between the two halves of the emulator runtime: emu_block.cpp runs one block
// on the calling OS thread (fibers, barrier, warp collectives), emu_launch.cpp checks launches and
// hands their blocks to a pool of OS threads.
#pragma once
#include <cstdint>
#include <string>

#include "emu_api.h"
#include "emu_counters.h"

namespace dd::simt::emu {

struct BlockJob {
    const LaunchSpec* spec;
    unsigned nthreads;
    Schedule schedule;
    uint64_t seed;  // random schedule: each block's order derives from (seed, block number)
};

// Runs block number b (x fastest) of the job on the calling OS thread. On failure returns false
// with "block (x,y,z): what went wrong" in *error.
// When counting (emu_counters.h), *counted receives the block's counters.
bool run_block(const BlockJob& job, uint64_t b, std::string* error, Counters* counted);

// Hooks into emu_mem.cpp (cp.async state, shadow of shared memory, access logs), per OS thread.
void mem_block_begin(unsigned nthreads, size_t smem_bytes);
void mem_barrier_release();                // before the block's epoch advances
void mem_thread_exit(unsigned linear);     // lands the thread's copies still in flight
bool mem_block_end(Counters* out);         // false when not counting
void mem_count_collective(int counter);

std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace dd::simt::emu
