// Emulator side of simt/dd_mem.h: instrumented shared / global accesses and cp.async with real
// asynchrony. Implementation: emu_mem.cpp (counting rules: emu_counters.h).
//
// cp.async semantics: a copy is captured from global memory when it is issued but lands in shared
// memory only when a cp.async.wait_group of the issuing thread completes its group (or the thread
// exits), so reading early sees old data. Instrumented reads (ld_shared, ldmatrix) of dynamic shared
// memory are checked and fail the launch when
//   - the word has a cp.async in flight (its group was not waited for), or
//   - the word was landed by another thread's wait_group with no __syncthreads since (wait_group
//     covers only the waiting thread's own copies);
// a cp.async fails when it writes a word that another thread read since the last __syncthreads (the
// buffer is still being read in the previous stage), and a cp.async or st_shared when it writes a word
// that has a copy in flight.
#pragma once
#include <atomic>
#include <cstdint>

namespace dd::simt::emu {

extern std::atomic<bool> g_counting;  // changes only between launches

enum AccessKind : uint8_t { kSmemLoad, kSmemStore, kGlobalLoad, kGlobalStore };

// Hazard checks (always) and, when counting, the access log.
void smem_access(AccessKind kind, const void* p, unsigned bytes, const char* file, int line);
void global_access(AccessKind kind, const void* p, unsigned bytes, const char* file, int line);

void cp_async(void* dst, const void* src, unsigned bytes, unsigned src_bytes, bool cg, const char* file, int line);
void cp_async_commit();
void cp_async_wait(int pending_groups_allowed);

// ldmatrix: each lane giving a row address checks its 16-B row as a read (before the collective);
// the collective counts the nrows rows (8 per matrix, one phase each) as one request.
void ldmatrix_lane(const void* row, const char* file, int line);
void ldmatrix_count(const void* const* rows, int nrows, bool trans);

}  // namespace dd::simt::emu
