#include "topk_rows.cu"
