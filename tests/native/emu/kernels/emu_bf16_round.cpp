// The kernel source, compiled by the host compiler against the SIMT emulator.
#include "bf16_round.cu"
