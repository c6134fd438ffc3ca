// VAE inner loops built for sse2 (compile flags set per file in cmake/DynditVae.cmake).
#define DD_VAE_ISA vae_sse2
#define DD_VAE_ISA_NAME "sse2"
#include "vae_kernels_impl.inc"

const dd::cpu::VaeKernels& dd::cpu::vae_kernels_sse2() { return dd::cpu::vae_sse2::table; }
