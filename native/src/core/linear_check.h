// The checks of dd_linear and its fused forms (ops.cpp, ops_linear_epilogue.cpp).
#pragma once
#include "op_check.h"

namespace dd {
// x [..., K] (rank x_rank, -1: any), w [N, K], bias [N] or null, y [..., N] with x's leading dims and apart from the
// inputs; the backend parameters, errors naming the tensor (the output as y_name). x, and y when y_bf16_allowed, may
// be bf16 where the backend takes bf16 activations (Backend::linear_bf16_io).
LinearParams check_linear(OpCheck& c, const dd_tensor* x, const dd_tensor* w, const dd_tensor* bias, const dd_tensor* y,
                          const char* y_name, int x_rank, bool y_bf16_allowed);
}  // namespace dd
