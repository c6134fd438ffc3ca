// The CUDA backend's ops by file, for the table in backend_cuda.cpp.
#pragma once
#include "../core/backend.h"
#include "../core/vae_backend.h"

namespace dd::cuda_impl {

// backend_cuda.cpp: dd_linear for a W that is an activation (changes between calls): never the bf16 weight
// cache, whose copies are only renewed when memory is freed or rewritten through the tensor API.
dd_status linear_activations(const LinearParams& p);

// backend_cuda_vae.cpp
dd_status conv2d(const Conv2dParams& p);
dd_status group_norm(const GroupNormParams& p);
dd_status upsample_nearest2x(const Upsample2xParams& p);
dd_status transpose_last2(const TransposeParams& p);

// backend_cuda_sampler.cpp
dd_status ddpm_update(const SamplerStepParams& p);
dd_status ddim_update(const SamplerStepParams& p);
dd_status cfg_combine(const CfgCombineParams& p);
dd_status weak_guidance(const WeakGuidanceParams& p);
dd_status dpm_update(const DpmStepParams& p);

// backend_cuda_mass.cpp
dd_status attention_key_mass(const AttentionKeyMassParams& p);

// cuda_graphs.cpp
dd_status graph_begin();
dd_status graph_end(void** graph);
dd_status graph_launch(void* graph);
void graph_free(void* graph);

}  // namespace dd::cuda_impl
