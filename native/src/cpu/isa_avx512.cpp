// CPU kernels built for avx512 (compile flags set per file in CMakeLists.txt).
#define DD_ISA avx512
#define DD_ISA_NAME "avx512"
#include "kernels_impl.inc"

const dd::cpu::Kernels& dd::cpu::kernels_avx512() { return dd::cpu::avx512::table; }
