#include "embed_ops.cu"
