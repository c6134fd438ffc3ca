#include "sampler_update.cu"
