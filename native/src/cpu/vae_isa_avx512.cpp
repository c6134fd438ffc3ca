// VAE inner loops built for avx512 (compile flags set per file in cmake/DynditVae.cmake).
#define DD_VAE_ISA vae_avx512
#define DD_VAE_ISA_NAME "avx512"
#include "vae_kernels_impl.inc"

const dd::cpu::VaeKernels& dd::cpu::vae_kernels_avx512() { return dd::cpu::vae_avx512::table; }
