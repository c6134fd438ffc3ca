// dd_attention_with_key_mass: self-attention that also sums each key's attention probabilities (token caching's
// importance, on the steps that fill the cache). A backend with the fused form takes the probabilities from the
// attention itself (the CPU); otherwise dd_attention runs, then dd_attention_key_mass (Q K^T a second time).
#include "attention_check.h"

using dd::format;
using dd::OpCheck;

dd_status dd_attention_with_key_mass(const dd_tensor* q, const dd_tensor* k, const dd_tensor* v, float scale,
                                     dd_tensor* out, dd_tensor* mass, int* scores_recomputed) {
    return dd::guard("dd_attention_with_key_mass", [&] {
        OpCheck c("dd_attention_with_key_mass");
        const dd::AttentionParams a = dd::check_attention(c, q, k, v, scale, out, false);
        if (a.Tk != a.T)
            c.error(DD_ERR_SHAPE, format("self-attention only: k has %lld tokens, q %lld", (long long)a.Tk,
                                         (long long)a.T));
        const dd::AttentionKeyMassParams m = dd::check_attention_key_mass(c, q, k, scale, mass, "mass");
        c.no_overlap(*mass, "mass", v, "v");
        c.no_overlap(*mass, "mass", out, "out");
        const dd::Backend& b = c.backend();
        if (b.attention_with_key_mass) {
            if (b.use_device)
                if (dd_status s = b.use_device(c.device_index())) return s;
            if (scores_recomputed) *scores_recomputed = 0;
            return b.attention_with_key_mass(a, m.out);
        }
        if (dd_status s = dd::run(c, b.attention, a)) return s;
        if (scores_recomputed) *scores_recomputed = 1;
        return dd::run(c, b.attention_key_mass, m);
    });
}
