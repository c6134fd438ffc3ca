// Fibers for the SIMT emulator: one per emulated CUDA thread. A fiber is a stack plus a saved
// stack pointer; switching saves only what the SysV ABI says a callee must preserve, which is why it
// costs tens of nanoseconds instead of the ~0.5 us of swapcontext (which also saves the signal mask
// with a system call). ucontext stays as a fallback (non-x86-64, or -DDD_EMU_UCONTEXT=1).
#pragma once
#include <cstddef>
#include <cstdint>

#if !defined(DD_EMU_UCONTEXT) && !defined(__x86_64__)
#define DD_EMU_UCONTEXT 1
#endif
#if defined(DD_EMU_UCONTEXT) && DD_EMU_UCONTEXT
#include <ucontext.h>
#endif

namespace dd::simt::emu {

// mmap'd stack with an inaccessible guard page below it, so an overflow faults instead of silently
// overwriting the neighbouring fiber's stack.
struct FiberStack {
    void* mapping = nullptr;  // start of the mapping (guard page)
    size_t mapping_bytes = 0;
    void* lo = nullptr;       // usable region [lo, lo + bytes)
    size_t bytes = 0;
};

// 64 KiB, or 256 KiB under AddressSanitizer (its redzones make frames several times larger).
size_t default_stack_bytes();
bool stack_alloc(FiberStack& s, size_t usable_bytes);
void stack_free(FiberStack& s);

struct Context {
#if defined(DD_EMU_UCONTEXT) && DD_EMU_UCONTEXT
    ucontext_t uc;
#else
    void* sp = nullptr;  // saved stack pointer; the registers live on the stack below it
#endif
    // Stack bounds and fake-stack handle, needed only by the AddressSanitizer fiber annotations.
    const void* stack_lo = nullptr;
    size_t stack_bytes = 0;
    void* asan_fake_stack = nullptr;
};

// Prepares `c` so the first switch into it calls entry(arg) on stack `s`. entry must never return:
// a fiber ends by switching away for the last time (context_switch with exiting = true).
void context_init(Context& c, const FiberStack& s, void (*entry)(void*), void* arg);

// Saves the current execution into `from` and resumes `to`. `exiting` tells the sanitizer that
// `from` will never be resumed.
void context_switch(Context& from, Context& to, bool exiting = false);

// Must be the first call of a fiber entry function (completes the sanitizer's switch bookkeeping).
void context_entered();

// Prepares `c` to stand for the calling OS thread's own stack (what fibers switch back to).
void context_of_this_thread(Context& c);

// Name of the switch implementation compiled in ("x86-64 asm" or "ucontext").
const char* context_backend();

}  // namespace dd::simt::emu
