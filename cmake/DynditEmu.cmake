# SIMT emulator ("one source, two compilers"): kernels from cuda-kernels/ compiled by the host
# compiler against cuda-kernels/simt and run on the CPU, with their GoogleTest suite. Needs CUDA's
# headers only (cuda_runtime.h, cuda_bf16.h, ...): no GPU, no driver, no nvcc.
#
# ctest entries (all named emu_*):
#   emu_forward / emu_reverse / emu_random   the suite under each fiber schedule (DYNDIT_EMU_SCHEDULE)
#   emu_asan_ubsan                           the suite built with -fsanitize=address,undefined
#                                            (option DYNDIT_EMU_SANITIZE, default ON)
#   emu_mutation_gemm_fails                  a build with a deliberately wrong mma fragment table must
#                                            fail the GEMM tests
#   emu_mutation_<kernel path>_fails         the same (and a wrong quad key ownership in attention_varlen)
#                                            must fail the production kernels' tests: gemm_tf32 tf32 / bf16,
#                                            attention_tc, attention_flash2 (fp32 and bf16 operands),
#                                            attention_varlen, vae_conv2d
#   emu_ucontext                             the emulator's feature tests on the ucontext fallback
#   emu_nvcc_no_spills                       (when nvcc exists) the example kernels compile for
#                                            sm_80 / sm_90 without register spills
find_package(GTest REQUIRED)
find_package(Threads REQUIRED)

include(DynditCudaHeaders)
if(NOT DYNDIT_EMU_CUDA_INCLUDE)
  message(STATUS "dyndit: SIMT emulator tests OFF (no CUDA headers found)")
  return()
endif()
message(STATUS "dyndit: SIMT emulator tests ON (CUDA headers ${DYNDIT_EMU_CUDA_INCLUDE})")

set(_emu_kernels "${PROJECT_SOURCE_DIR}/cuda-kernels")
set(_emu_tests "${PROJECT_SOURCE_DIR}/tests/native/emu")
set(_emu_warnings -Wall -Wextra)
set(_emu_sanitize -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)

# The emulator runtime (fibers, scheduler, cudart shim) as a static library, one per flavour.
function(dyndit_emu_runtime name)
  add_library(${name} STATIC
    ${_emu_kernels}/simt/emu_fiber.cpp
    ${_emu_kernels}/simt/emu_block.cpp
    ${_emu_kernels}/simt/emu_launch.cpp
    ${_emu_kernels}/simt/emu_mem.cpp
    ${_emu_kernels}/simt/emu_count.cpp
    ${_emu_kernels}/simt/emu_cudart.cpp)
  target_include_directories(${name} PUBLIC ${_emu_kernels} ${_emu_kernels}/simt ${DYNDIT_EMU_CUDA_INCLUDE})
  target_compile_features(${name} PUBLIC cxx_std_17)
  target_compile_options(${name} PRIVATE ${_emu_warnings} ${ARGN})
  target_link_libraries(${name} PUBLIC Threads::Threads)
endfunction()

# test_emu_fiber.cpp is the only test that sees the fiber context layout (which the ucontext
# flavour changes); the others are compiled once and linked into both flavours.
set(DYNDIT_EMU_FIBER_TEST ${_emu_tests}/test_emu_fiber.cpp)
set(DYNDIT_EMU_FEATURE_TESTS
  ${_emu_tests}/test_emu_sync.cpp
  ${_emu_tests}/test_emu_warp.cpp
  ${_emu_tests}/test_emu_atomics.cpp
  ${_emu_tests}/test_emu_smem.cpp
  ${_emu_tests}/test_emu_mma.cpp
  ${_emu_tests}/test_emu_counting.cpp
  ${_emu_tests}/test_emu_cudart.cpp)
# Each example kernel: a wrapper that #includes the .cu, plus its test against a double reference.
set(DYNDIT_EMU_KERNEL_TESTS
  ${_emu_tests}/emu_layernorm_rows.cpp
  ${_emu_tests}/emu_mma_gemm_bf16.cpp
  ${_emu_tests}/test_kernel_layernorm.cpp
  ${_emu_tests}/test_kernel_gemm.cpp
  ${_emu_tests}/test_emu_speed.cpp)
# Further kernels: each adds its wrapper and test files under tests/native/emu/kernels/ (picked up here).
file(GLOB _emu_more_kernel_tests CONFIGURE_DEPENDS ${_emu_tests}/kernels/*.cpp)
list(APPEND DYNDIT_EMU_KERNEL_TESTS ${_emu_more_kernel_tests})
# The cost model's arithmetic, tested on the GEMM's counts (kernels/test_cuda_model_gemm.cpp).
list(APPEND DYNDIT_EMU_KERNEL_TESTS ${PROJECT_SOURCE_DIR}/native/bench/cuda_model.cpp)
# Kernel files that must compile for the GPU without spills (checked when nvcc exists): all of them.
file(GLOB DYNDIT_EMU_NVCC_CHECKED CONFIGURE_DEPENDS ${_emu_kernels}/*.cu)

function(dyndit_emu_tests name runtime)
  add_executable(${name} ${ARGN})
  target_link_libraries(${name} PRIVATE ${runtime} GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/native/bench)
  target_compile_options(${name} PRIVATE ${_emu_warnings})
endfunction()

# Main suite, run under the three schedules.
dyndit_emu_runtime(dyndit_emu)
add_library(dyndit_emu_feature_objs OBJECT ${DYNDIT_EMU_FEATURE_TESTS})
target_link_libraries(dyndit_emu_feature_objs PRIVATE dyndit_emu GTest::gtest)
target_compile_options(dyndit_emu_feature_objs PRIVATE ${_emu_warnings})
dyndit_emu_tests(dyndit_emu_tests dyndit_emu $<TARGET_OBJECTS:dyndit_emu_feature_objs> ${DYNDIT_EMU_FIBER_TEST}
                 ${DYNDIT_EMU_KERNEL_TESTS})
foreach(schedule forward reverse random)
  add_test(NAME emu_${schedule} COMMAND dyndit_emu_tests)
  set_tests_properties(emu_${schedule} PROPERTIES ENVIRONMENT "DYNDIT_EMU_SCHEDULE=${schedule}" TIMEOUT 120
                       LABELS emu)
endforeach()

# AddressSanitizer + UndefinedBehaviorSanitizer build of the same suite (-O1: sanitizer builds at
# -O3 compile slowly and gain nothing). The longest emulator build step: it can be switched off.
option(DYNDIT_EMU_SANITIZE "build and run the emulator suite under ASan+UBSan too" ON)
if(DYNDIT_EMU_SANITIZE)
  dyndit_emu_runtime(dyndit_emu_asan -O1 -g ${_emu_sanitize})
  target_link_options(dyndit_emu_asan PUBLIC ${_emu_sanitize})
  dyndit_emu_tests(dyndit_emu_tests_asan dyndit_emu_asan ${DYNDIT_EMU_FEATURE_TESTS} ${DYNDIT_EMU_FIBER_TEST}
                   ${DYNDIT_EMU_KERNEL_TESTS})
  target_compile_options(dyndit_emu_tests_asan PRIVATE -O1 -g ${_emu_sanitize})
  add_test(NAME emu_asan_ubsan COMMAND dyndit_emu_tests_asan)
  set_tests_properties(emu_asan_ubsan PROPERTIES TIMEOUT 300 LABELS emu ENVIRONMENT
    "DYNDIT_EMU_SCHEDULE=random;ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1")
endif()

# Mutation test: the mma emulation with A's rows g and g+8 swapped. Passing means the GEMM tests
# FAILED (gtest prints "[  FAILED  ] EmuGemm.<name>" only for a test that ran and failed its
# checks, so a crash does not count as the expected failure).
dyndit_emu_tests(dyndit_emu_mutant dyndit_emu ${_emu_tests}/emu_mma_gemm_bf16.cpp ${_emu_tests}/test_kernel_gemm.cpp)
target_compile_definitions(dyndit_emu_mutant PRIVATE DD_EMU_MMA_MUTATION=1)
add_test(NAME emu_mutation_gemm_fails COMMAND dyndit_emu_mutant --gtest_filter=EmuGemm.*)
set_tests_properties(emu_mutation_gemm_fails PROPERTIES PASS_REGULAR_EXPRESSION "\\[  FAILED  \\] EmuGemm\\."
                     TIMEOUT 120 LABELS emu)

# The same guard on the production kernels: the mma mutation (A rows g / g+8 swapped, what a kernel
# loading its A fragment the wrong way round computes) under the tensor-core paths of gemm_tf32 (tf32 and
# bf16), attention_tc, attention_flash2 and vae_conv2d, and DD_ATTENTION_VARLEN_MUTATION (each quad lane takes its
# neighbour's key probability) in the fp32 SIMT attention_varlen, which has no mma. Each entry runs the
# tests of one path only (the fp32 paths, untouched by the mma mutation, stay out of the filter) and passes
# only when one of them reports a failed check.
dyndit_emu_tests(dyndit_emu_kernel_mutant dyndit_emu
  ${_emu_tests}/kernels/emu_gemm_tf32.cpp ${_emu_tests}/kernels/test_kernel_gemm_tf32.cpp
  ${_emu_tests}/kernels/emu_attention_varlen.cpp ${_emu_tests}/kernels/emu_attention_tc.cpp
  ${_emu_tests}/kernels/emu_attention_flash2.cpp ${_emu_tests}/kernels/emu_attention_flash2_bf16.cpp
  ${_emu_tests}/kernels/test_kernel_attention_varlen.cpp
  ${_emu_tests}/kernels/emu_vae_conv2d.cpp ${_emu_tests}/kernels/test_kernel_vae_conv2d.cpp)
target_compile_definitions(dyndit_emu_kernel_mutant PRIVATE DD_EMU_MMA_MUTATION=1 DD_ATTENTION_VARLEN_MUTATION=1)
foreach(probe "gemm_tf32_tf32;EmuGemmTf32.FullTilesNoBias"
              "gemm_tf32_bf16;EmuGemmTf32.FullTilesBf16"
              "gemm_tf32_multistage;EmuGemmTf32.MultistageRingRaggedEdges"
              "gemm_tf32_bf16_weights;EmuGemmTf32.Bf16WeightsRing"
              "attention_tc;EmuAttentionTc.RaggedDenseHeadSubsetsAndBuckets"
              "attention_flash2;EmuAttentionFlash2.RaggedDenseHeadSubsetsAndBuckets"
              "attention_flash2_bf16;EmuAttentionFlash2Bf16.RaggedDenseHeadSubsetsAndBuckets"
              "gemm_tf32_bf16_activations;EmuGemmTf32.Bf16ActivationsRing"
              "attention_varlen;EmuAttentionVarlen.RaggedAndEmptySequencesPackedQkv"
              "vae_conv2d_tf32;EmuVaeConv2d.Small3x3BothPrecisions")
  list(GET probe 0 _what)
  list(GET probe 1 _test)
  string(REPLACE "." "\\." _test_re "${_test}")
  add_test(NAME emu_mutation_${_what}_fails COMMAND dyndit_emu_kernel_mutant --gtest_filter=${_test})
  set_tests_properties(emu_mutation_${_what}_fails PROPERTIES PASS_REGULAR_EXPRESSION "\\[  FAILED  \\] ${_test_re}"
                       TIMEOUT 120 LABELS emu)
endforeach()

# The ucontext fallback of the fiber switch, on the emulator feature tests.
dyndit_emu_runtime(dyndit_emu_ucontext)
target_compile_definitions(dyndit_emu_ucontext PUBLIC DD_EMU_UCONTEXT=1)  # changes emu::Context's layout
dyndit_emu_tests(dyndit_emu_tests_ucontext dyndit_emu_ucontext $<TARGET_OBJECTS:dyndit_emu_feature_objs>
                 ${DYNDIT_EMU_FIBER_TEST})
add_test(NAME emu_ucontext COMMAND dyndit_emu_tests_ucontext)
set_tests_properties(emu_ucontext PROPERTIES TIMEOUT 120 LABELS emu)

if(CMAKE_CUDA_COMPILER)
  add_test(NAME emu_nvcc_no_spills
           COMMAND sh ${_emu_tests}/check_no_spills.sh ${CMAKE_CUDA_COMPILER} ${_emu_kernels} ${DYNDIT_EMU_NVCC_CHECKED})
  # ~45 s of nvcc on a quiet 2-core machine; a shared one under builds took over 180 s
  set_tests_properties(emu_nvcc_no_spills PROPERTIES TIMEOUT 600 LABELS "emu;nvcc")
endif()
