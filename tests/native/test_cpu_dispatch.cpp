// The CPU kernel dispatcher: which kernel set dd_cpu_isa() reports, with and without DYNDIT_ISA
// (ctest runs the whole suite again under DYNDIT_ISA=sse2 and =avx2, see CMakeLists.txt).
#include <cstdlib>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "test_support.h"

namespace {

bool cpu_has(const std::string& feature) {
    std::istringstream in(dd_cpu_features());
    for (std::string f; in >> f;)
        if (f == feature) return true;
    return false;
}

// What the CPU can run, by the features the library itself detected.
bool cpu_runs(const std::string& isa) {
    if (isa == "sse2") return true;
    if (isa == "avx2") return cpu_has("avx2") && cpu_has("fma");
    if (isa == "avx512")
        return cpu_has("avx512f") && cpu_has("avx512bw") && cpu_has("avx512vl") && cpu_has("avx512dq") &&
               cpu_has("fma");
    return false;
}

TEST(CpuDispatch, IsaIsAKnownKernelSet) {
    const std::set<std::string> known = {"sse2", "avx2", "avx512"};
    EXPECT_TRUE(known.count(dd_cpu_isa())) << dd_cpu_isa();
    EXPECT_TRUE(cpu_runs(dd_cpu_isa())) << dd_cpu_isa() << " chosen on a CPU with: " << dd_cpu_features();
}

TEST(CpuDispatch, IsaMatchesDynditIsaEnvironment) {
    const char* forced = std::getenv("DYNDIT_ISA");
    if (!forced) GTEST_SKIP() << "DYNDIT_ISA is not set (ctest sets it in the dyndit_native_tests_isa_* runs)";
    if (!cpu_runs(forced)) GTEST_SKIP() << "this CPU cannot run " << forced << " (" << dd_cpu_features() << ")";
    EXPECT_STREQ(dd_cpu_isa(), forced);
}

TEST(CpuDispatch, DefaultIsTheBestSetTheCpuRuns) {
    if (std::getenv("DYNDIT_ISA")) GTEST_SKIP() << "DYNDIT_ISA is set";
    const char* best = cpu_runs("avx512") ? "avx512" : cpu_runs("avx2") ? "avx2" : "sse2";
    EXPECT_STREQ(dd_cpu_isa(), best) << dd_cpu_features();
}

// The choice is made once per process: changing the variable afterwards changes nothing.
TEST(CpuDispatch, ChoiceIsFixedForTheProcess) {
    const std::string chosen = dd_cpu_isa();
    const char* prev = std::getenv("DYNDIT_ISA");
    const std::string saved = prev ? prev : "";
    setenv("DYNDIT_ISA", chosen == "sse2" ? "avx2" : "sse2", 1);
    EXPECT_EQ(dd_cpu_isa(), chosen);
    if (prev) setenv("DYNDIT_ISA", saved.c_str(), 1);
    else unsetenv("DYNDIT_ISA");
}

}  // namespace

// dd_set_num_threads on one thread governs the ops of every thread (OpenMP's own setting is per calling thread: a
// thread that never set it would keep the default team size).
TEST(CpuThreads, SettingOnOneThreadGovernsOtherThreads) {
    const int before = dd_num_threads();
    dd_set_num_threads(1);
    int seen = -1;
    std::thread t([&] { seen = dd_num_threads(); });
    t.join();
    dd_set_num_threads(before);
    EXPECT_EQ(seen, 1);
    int restored = -1;
    std::thread u([&] { restored = dd_num_threads(); });
    u.join();
    EXPECT_EQ(restored, before);
}
