# SD-VAE decoder ops (dyndit_vae.h): C entry points, the CPU backend (oneDNN convolutions and matmuls,
# GroupNorm, upsampling) and its per-ISA inner loops, added to the `dyndit` library.
target_sources(dyndit PRIVATE
  native/src/core/ops_vae.cpp
  native/src/cpu/vae_ops.cpp
  native/src/cpu/vae_conv.cpp
  native/src/cpu/vae_conv_dnnl.cpp
  native/src/cpu/vae_isa_sse2.cpp
  native/src/cpu/vae_isa_avx2.cpp
  native/src/cpu/vae_isa_avx512.cpp)
dyndit_isa_flags(native/src/cpu/vae_isa_avx2.cpp avx2)
dyndit_isa_flags(native/src/cpu/vae_isa_avx512.cpp avx512)
# Float compares may be if-converted into vector selects (the exp clamp in the SiLU loop): without this
# GCC keeps that loop scalar for fear of FP traps, which the library never enables.
set_property(SOURCE native/src/cpu/vae_isa_sse2.cpp native/src/cpu/vae_isa_avx2.cpp native/src/cpu/vae_isa_avx512.cpp
  APPEND PROPERTY COMPILE_OPTIONS -fno-trapping-math)
