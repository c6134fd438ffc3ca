// The checks of the attention ops (ops.cpp, ops_attention_with_key_mass.cpp).
#pragma once
#include "op_check.h"

namespace dd {
// q, out [N,Tq,H,Dh], k, v [N,Tk,H,Dh] views with a contiguous last dim, scale > 0; all four f32, or all four bf16
// when bf16_allowed and the backend takes them (Backend::attention_bf16_io; DD_ERR_UNSUPPORTED naming q otherwise).
AttentionParams check_attention(OpCheck& c, const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, float scale,
                                const dd_tensor* out, bool bf16_allowed);
// q, k [N,T,H,Dh] views, the mass `out_name` [N,T] contiguous and apart from q and k, scale > 0.
AttentionKeyMassParams check_attention_key_mass(OpCheck& c, const dd_tensor* q, const dd_tensor* k, float scale,
                                                const dd_tensor* out, const char* out_name);
}  // namespace dd
