// Fiber stacks and context switching for the SIMT emulator (see emu_fiber.h).
#include "emu_fiber.h"

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

#if defined(__SANITIZE_ADDRESS__)
#define DD_EMU_ASAN 1
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#else
#define DD_EMU_ASAN 0
#endif

namespace dd::simt::emu {

size_t default_stack_bytes() { return DD_EMU_ASAN ? 256 * 1024 : 64 * 1024; }

bool stack_alloc(FiberStack& s, size_t usable_bytes) {
    const size_t page = (size_t)sysconf(_SC_PAGESIZE);
    usable_bytes = (usable_bytes + page - 1) / page * page;
    const size_t total = usable_bytes + page;
    // MAP_NORESERVE: 1024 fibers x 64 KiB is 64 MiB of address space, but only touched pages count.
    void* m = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    if (mprotect(m, page, PROT_NONE) != 0) {  // stacks grow down: the guard is the lowest page
        munmap(m, total);
        return false;
    }
    s.mapping = m;
    s.mapping_bytes = total;
    s.lo = static_cast<char*>(m) + page;
    s.bytes = usable_bytes;
    return true;
}

void stack_free(FiberStack& s) {
    if (s.mapping) munmap(s.mapping, s.mapping_bytes);
    s = FiberStack{};
}

// A reused stack may still carry redzone poison from a fiber abandoned mid-frame (failed launch).
static void unpoison(const FiberStack& s) {
#if DD_EMU_ASAN
    __asan_unpoison_memory_region(s.lo, s.bytes);
#else
    (void)s;
#endif
}

#if defined(DD_EMU_UCONTEXT) && DD_EMU_UCONTEXT

namespace {
// makecontext passes int arguments only: the entry and its argument travel as 32-bit halves.
void uc_entry(unsigned e_lo, unsigned e_hi, unsigned a_lo, unsigned a_hi) {
    auto entry = reinterpret_cast<void (*)(void*)>(((uintptr_t)e_hi << 32) | e_lo);
    void* arg = reinterpret_cast<void*>(((uintptr_t)a_hi << 32) | a_lo);
    entry(arg);
    std::abort();  // entry functions never return
}
}  // namespace

void context_init(Context& c, const FiberStack& s, void (*entry)(void*), void* arg) {
    unpoison(s);
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = s.lo;
    c.uc.uc_stack.ss_size = s.bytes;
    c.uc.uc_link = nullptr;
    c.stack_lo = s.lo;
    c.stack_bytes = s.bytes;
    c.asan_fake_stack = nullptr;
    const uintptr_t e = reinterpret_cast<uintptr_t>(entry), a = reinterpret_cast<uintptr_t>(arg);
    makecontext(&c.uc, reinterpret_cast<void (*)()>(uc_entry), 4, (unsigned)e, (unsigned)(e >> 32), (unsigned)a,
                (unsigned)(a >> 32));
}

static inline void raw_switch(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }

const char* context_backend() { return "ucontext"; }

#else  // hand-written x86-64 switch

// dd_emu_switch_raw(void** save_sp, void* new_sp): pushes the callee-saved registers (rbp, rbx,
// r12-r15) and the MXCSR / x87 control words (rounding mode, FTZ/DAZ are per-thread state that a
// kernel could change), stores rsp, loads the other fiber's rsp and pops the same frame back.
// ldmxcsr / fldcw run only when the value differs: fldcw alone was half the switch time on Zen 4,
// and kernels almost never change these modes. rax / rcx are caller-saved scratch.
// dd_emu_fiber_trampoline: first "return" target of a new fiber; calls entry(r13) with arg(r12).
asm(R"(
    .text
    .p2align 4
    .globl dd_emu_switch_raw
    .hidden dd_emu_switch_raw
    .type dd_emu_switch_raw,@function
dd_emu_switch_raw:
    .cfi_startproc
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    movq %rsp, (%rdi)
    movl (%rsp), %eax
    movzwl 4(%rsp), %ecx
    movq %rsi, %rsp
    cmpl (%rsp), %eax
    je 1f
    ldmxcsr (%rsp)
1:
    cmpw 4(%rsp), %cx
    je 2f
    fldcw 4(%rsp)
2:
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size dd_emu_switch_raw, .-dd_emu_switch_raw

    .p2align 4
    .globl dd_emu_fiber_trampoline
    .hidden dd_emu_fiber_trampoline
    .type dd_emu_fiber_trampoline,@function
dd_emu_fiber_trampoline:
    .cfi_startproc
    .cfi_undefined rip
    movq %r12, %rdi
    callq *%r13
    ud2
    .cfi_endproc
    .size dd_emu_fiber_trampoline, .-dd_emu_fiber_trampoline
)");

extern "C" void dd_emu_switch_raw(void** save_sp, void* new_sp);
extern "C" void dd_emu_fiber_trampoline();

void context_init(Context& c, const FiberStack& s, void (*entry)(void*), void* arg) {
    unpoison(s);
    uintptr_t top = (reinterpret_cast<uintptr_t>(s.lo) + s.bytes - 16) & ~(uintptr_t)15;
    auto* p = reinterpret_cast<uint64_t*>(top);
    uint32_t mxcsr = 0;
    uint16_t fpucw = 0;
    asm volatile("stmxcsr %0" : "=m"(mxcsr));
    asm volatile("fnstcw %0" : "=m"(fpucw));
    // Frame popped by dd_emu_switch_raw; after its `ret` rsp == top (16-byte aligned), so the
    // trampoline's call enters `entry` with the alignment the ABI requires.
    p[-1] = reinterpret_cast<uint64_t>(&dd_emu_fiber_trampoline);
    p[-2] = 0;                                    // rbp: ends frame-pointer walks
    p[-3] = 0;                                    // rbx
    p[-4] = reinterpret_cast<uint64_t>(arg);      // r12
    p[-5] = reinterpret_cast<uint64_t>(entry);    // r13
    p[-6] = 0;                                    // r14
    p[-7] = 0;                                    // r15
    p[-8] = (uint64_t)mxcsr | ((uint64_t)fpucw << 32);
    c.sp = &p[-8];
    c.stack_lo = s.lo;
    c.stack_bytes = s.bytes;
    c.asan_fake_stack = nullptr;
}

static inline void raw_switch(Context& from, Context& to) { dd_emu_switch_raw(&from.sp, to.sp); }

const char* context_backend() { return "x86-64 asm"; }

#endif

void context_switch(Context& from, Context& to, bool exiting) {
#if DD_EMU_ASAN
    __sanitizer_start_switch_fiber(exiting ? nullptr : &from.asan_fake_stack, to.stack_lo, to.stack_bytes);
    raw_switch(from, to);
    __sanitizer_finish_switch_fiber(from.asan_fake_stack, nullptr, nullptr);
#else
    (void)exiting;
    raw_switch(from, to);
#endif
}

void context_entered() {
#if DD_EMU_ASAN
    __sanitizer_finish_switch_fiber(nullptr, nullptr, nullptr);
#endif
}

void context_of_this_thread(Context& c) {
    c.stack_lo = nullptr;
    c.stack_bytes = 0;
    c.asan_fake_stack = nullptr;
#if DD_EMU_ASAN
    pthread_attr_t attr;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
        void* lo = nullptr;
        size_t bytes = 0;
        if (pthread_attr_getstack(&attr, &lo, &bytes) == 0) {
            c.stack_lo = lo;
            c.stack_bytes = bytes;
        }
        pthread_attr_destroy(&attr);
    }
#endif
}

}  // namespace dd::simt::emu
