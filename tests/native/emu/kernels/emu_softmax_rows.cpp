// The kernel source, compiled by the host compiler against the SIMT emulator.
#include "softmax_rows.cu"
