// The CUDA backend's sampler steps and guidance combines (sampler_update.cu).
#include "backend_cuda_parts.h"
#include "cuda_context.h"
#include "sampler_update.cuh"

namespace dd::cuda_impl {

dd_status ddpm_update(const SamplerStepParams& p) {
    const ck::DdpmCoefs k{p.k[0], p.k[1], p.k[2], p.k[3], p.k[4], p.k[5], p.k[6]};
    return check_launch(ck::ddpm_update(p.x, p.out, p.noise, p.pred_xstart, p.next, p.B, p.C, p.Co, p.P, k,
                                        p.learned_range, stream()),
                        "ddpm_update");
}

dd_status ddim_update(const SamplerStepParams& p) {
    const ck::DdimCoefs k{p.k[0], p.k[1], p.k[2], p.k[3], p.k[4]};
    return check_launch(ck::ddim_update(p.x, p.out, p.noise, p.pred_xstart, p.next, p.B, p.C, p.Co, p.P, k, stream()),
                        "ddim_update");
}

dd_status dpm_update(const DpmStepParams& p) {
    ck::DpmCoefs k{};
    for (int i = 0; i < 10; ++i) k.k[i] = p.k[i];
    return check_launch(ck::dpm_update(p.x, p.out, p.m1, p.m2, p.x0, p.next, p.B, p.C, p.Co, p.P, k, p.order, stream()),
                        "dpm_update");
}

dd_status cfg_combine(const CfgCombineParams& p) {
    return check_launch(ck::cfg_combine(p.out, p.n, p.Co, p.P, p.guided, p.scale, stream()), "cfg_combine");
}

dd_status weak_guidance(const WeakGuidanceParams& p) {
    return check_launch(ck::weak_guidance(p.cond, p.guide, p.n, p.Co, p.P, p.guided, p.scale, stream()), "weak_guidance");
}

}  // namespace dd::cuda_impl
