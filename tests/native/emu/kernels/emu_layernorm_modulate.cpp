#include "layernorm_modulate.cu"
