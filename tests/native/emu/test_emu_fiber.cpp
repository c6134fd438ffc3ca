// The fiber layer on its own: switches preserve the callee-saved state and the floating-point
// control state per fiber, the guard page stops a stack overflow, and what a switch costs.
#include <cfenv>
#include <chrono>

#include "emu_test_util.h"
#include "simt/emu_fiber.h"

namespace emu = dd::simt::emu;

namespace {

struct PingPong {
    emu::Context main_ctx, fiber_ctx;
    emu::FiberStack stack;
    long rounds = 0;
    double checksum = 0;
    int fiber_round_mode = -1;
};

// Keeps many values live across switches: the compiler puts them in callee-saved registers, which
// only survive if the switch saves them.
void ping_entry(void* p) {
    auto& s = *static_cast<PingPong*>(p);
    emu::context_entered();
    unsigned long a = 1, b = 2, c = 3, d = 5, e = 8;  // unsigned: wraps without UB
    double x = 0.5, y = 0.25, z = 0.125;
    for (long i = 0; i < s.rounds; ++i) {
        a += b; b ^= c; c += d * 3; d = d * 7 + 1; e += a;
        x = x * 1.0000001 + y; y = y * 0.9999999 + z; z += 1e-9;
        emu::context_switch(s.fiber_ctx, s.main_ctx);
    }
    s.checksum = (double)(a + b + c + d + e) + x + y + z;
    fesetround(FE_DOWNWARD);  // must stay private to this fiber
    s.fiber_round_mode = fegetround();
    emu::context_switch(s.fiber_ctx, s.main_ctx, /*exiting=*/true);
    std::abort();
}

double expected_checksum(long rounds) {
    unsigned long a = 1, b = 2, c = 3, d = 5, e = 8;  // unsigned: wraps without UB
    double x = 0.5, y = 0.25, z = 0.125;
    for (long i = 0; i < rounds; ++i) {
        a += b; b ^= c; c += d * 3; d = d * 7 + 1; e += a;
        x = x * 1.0000001 + y; y = y * 0.9999999 + z; z += 1e-9;
        // The same arithmetic without switches; volatile keeps the compiler from folding the loop.
        volatile unsigned long sink = a;
        (void)sink;
    }
    return (double)(a + b + c + d + e) + x + y + z;
}

double run_ping_pong(long rounds, double* ns_per_switch) {
    PingPong s;
    emu::context_of_this_thread(s.main_ctx);
    s.rounds = rounds;
    EXPECT_TRUE(emu::stack_alloc(s.stack, emu::default_stack_bytes()));
    emu::context_init(s.fiber_ctx, s.stack, ping_entry, &s);
    const auto t0 = std::chrono::steady_clock::now();
    for (long i = 0; i <= rounds; ++i) emu::context_switch(s.main_ctx, s.fiber_ctx);
    const auto t1 = std::chrono::steady_clock::now();
    if (ns_per_switch)
        *ns_per_switch = std::chrono::duration<double, std::nano>(t1 - t0).count() / (2.0 * (double)(rounds + 1));
    EXPECT_EQ(s.fiber_round_mode, FE_DOWNWARD);
    emu::stack_free(s.stack);
    return s.checksum;
}

}  // namespace

TEST(EmuFiber, SwitchPreservesCalleeSavedState) {
    const long rounds = 1000;
    EXPECT_EQ(run_ping_pong(rounds, nullptr), expected_checksum(rounds));
}

TEST(EmuFiber, RoundingModeIsPerFiber) {
    ASSERT_EQ(fegetround(), FE_TONEAREST);
    run_ping_pong(3, nullptr);  // the fiber switched to FE_DOWNWARD before leaving
    EXPECT_EQ(fegetround(), FE_TONEAREST);
}

TEST(EmuFiber, SwitchCost) {
    double ns = 0;
    run_ping_pong(200000, &ns);
    printf("[ emu ] context switch (%s): %.1f ns\n", emu::context_backend(), ns);
    RecordProperty("context_switch_ns", std::to_string(ns));
    EXPECT_LT(ns, 20000.0);  // sanity only: sanitizers and loaded CI machines are slow
}

namespace {
struct Overflow {
    emu::Context main_ctx, fiber_ctx;
    emu::FiberStack stack;
};
int recurse(int depth) {
    volatile char pad[1024];
    pad[0] = (char)depth;
    return depth > 1000000 ? 0 : recurse(depth + 1) + pad[0];
}
void overflow_entry(void*) {
    emu::context_entered();
    recurse(0);
    std::abort();
}
}  // namespace

TEST(EmuFiberDeathTest, StackOverflowHitsGuardPage) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(
        {
            Overflow s;
            emu::context_of_this_thread(s.main_ctx);
            emu::stack_alloc(s.stack, emu::default_stack_bytes());
            emu::context_init(s.fiber_ctx, s.stack, overflow_entry, &s);
            emu::context_switch(s.main_ctx, s.fiber_ctx);
        },
        "");
}
