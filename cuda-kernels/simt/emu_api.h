// Host-side interface of the SIMT emulator: launching, the fiber schedule switch, diagnostics.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include <driver_types.h>
#include <vector_types.h>

namespace dd::simt::emu {

// Order in which the runnable threads of a block are resumed after every barrier / collective.
// Different orders expose different races (a missing __syncthreads is invisible in one order
// and visible in another). Default comes from DYNDIT_EMU_SCHEDULE=forward|reverse|random (any
// other value fails launches); every launch failure prints its seed, and DYNDIT_EMU_SEED=<seed>
// replays that random order.
enum class Schedule { kForward, kReverse, kRandom };
Schedule current_schedule();
const char* schedule_name(Schedule s);
// Tests can force a schedule regardless of the environment; pass nullptr to return to it.
void set_schedule_override(const Schedule* s);

struct LaunchSpec {
    const char* text;  // the dd_launch argument text; the kernel name is its first argument
    dim3 grid;
    dim3 block;
    size_t dyn_smem;
    void (*entry)(void*);  // runs the kernel body for the current emulated thread
    void* arg;
    const void* kernel;  // identity for cudaFuncSetAttribute
};
// Runs every block to completion (launches are synchronous; streams are ignored). Returns
// cudaSuccess, a configuration error (cudaErrorInvalidConfiguration / cudaErrorInvalidValue), or
// cudaErrorLaunchFailure for anything detected while running; last_error_detail() says what.
cudaError_t launch(const LaunchSpec& spec);

// Stream capture (CUDA graphs). Launches are synchronous here, so capture is per host thread (the
// cudaStreamCaptureModeThreadLocal behaviour): while a thread captures, its launches and async copies are
// checked and recorded instead of run, and synchronous copies / memsets fail with
// cudaErrorStreamCaptureUnsupported as they do on a GPU. cudaGraphLaunch replays the nodes in order.
using GraphNode = std::function<cudaError_t()>;
bool capturing();
cudaError_t begin_capture();                             // cudaErrorIllegalState when already capturing
cudaError_t end_capture(std::vector<GraphNode>* nodes);  // cudaErrorIllegalState when not capturing
void record(GraphNode node);
// The configuration checks of launch() without running anything (used when a launch is recorded).
cudaError_t check_launch(const LaunchSpec& spec);

// Detailed text and code of the last failed launch made by this host thread ("", cudaSuccess if
// its last launch succeeded).
const char* last_error_detail();
cudaError_t last_error_code();

// Per-kernel dynamic shared memory limit set through cudaFuncSetAttribute.
void set_max_dynamic_smem(const void* kernel, int bytes);

// Counters over all launches since the last reset (for speed measurements).
struct Stats {
    uint64_t blocks, resumes, collectives, barriers;
};
Stats stats();
void reset_stats();

// OS threads that run blocks (DYNDIT_EMU_THREADS, default: hardware concurrency).
int worker_count();

}  // namespace dd::simt::emu
