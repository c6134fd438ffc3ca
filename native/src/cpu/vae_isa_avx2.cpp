// VAE inner loops built for avx2 (compile flags set per file in cmake/DynditVae.cmake).
#define DD_VAE_ISA vae_avx2
#define DD_VAE_ISA_NAME "avx2"
#include "vae_kernels_impl.inc"

const dd::cpu::VaeKernels& dd::cpu::vae_kernels_avx2() { return dd::cpu::vae_avx2::table; }
