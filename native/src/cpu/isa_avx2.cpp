// CPU kernels built for avx2 (compile flags set per file in CMakeLists.txt).
#define DD_ISA avx2
#define DD_ISA_NAME "avx2"
#include "kernels_impl.inc"

const dd::cpu::Kernels& dd::cpu::kernels_avx2() { return dd::cpu::avx2::table; }
