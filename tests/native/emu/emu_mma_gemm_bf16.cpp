// The kernel source, compiled by the host compiler against the SIMT emulator.
#include "mma_gemm_bf16.cu"
