// CPU kernels built for sse2 (compile flags set per file in CMakeLists.txt).
#define DD_ISA sse2
#define DD_ISA_NAME "sse2"
#include "kernels_impl.inc"

const dd::cpu::Kernels& dd::cpu::kernels_sse2() { return dd::cpu::sse2::table; }
