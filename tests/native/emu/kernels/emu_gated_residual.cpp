#include "gated_residual.cu"
