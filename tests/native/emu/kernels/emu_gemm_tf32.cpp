// The kernel source, compiled by the host compiler against the SIMT emulator.
#include "gemm_tf32.cu"
