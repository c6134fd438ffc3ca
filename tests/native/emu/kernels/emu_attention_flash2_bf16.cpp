// The kernel source, compiled by the host compiler against the SIMT emulator.
#include "attention_flash2_bf16.cu"
