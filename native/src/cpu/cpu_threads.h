// The CPU backend's thread count: set process-wide, applied to each calling thread (OpenMP's setting is per thread).
#pragma once
#include <atomic>

namespace dd::cpu {

extern std::atomic<int> g_threads;  // 0: OpenMP's default (OMP_NUM_THREADS or the cores)

// Makes the calling thread's OpenMP team size the process-wide one (every CPU op calls it).
void apply_thread_count();

}  // namespace dd::cpu
