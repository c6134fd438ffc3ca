# dyndit_cuda_model (beside dyndit_cuda_bench): the cost model of native/bench/cuda_model.h on kernels counted
# under the SIMT emulator. Needs CUDA's headers only; with nvcc, a ptxas usage table (registers and static
# shared memory per kernel for sm_80 / sm_90) is generated for its occupancy (cuda_model_ptxas.txt).
if(NOT TARGET dyndit_cuda_emu_objs)
  return()
endif()
add_executable(dyndit_cuda_model
  $<TARGET_OBJECTS:dyndit_cuda_emu_objs>
  native/bench/cuda_model.cpp
  native/bench/cuda_model_workloads.cpp
  native/bench/cuda_model_main.cpp)
target_include_directories(dyndit_cuda_model PRIVATE native/bench ${PROJECT_SOURCE_DIR}/cuda-kernels
                           ${PROJECT_SOURCE_DIR}/cuda-kernels/simt ${DYNDIT_EMU_CUDA_INCLUDE})
target_compile_options(dyndit_cuda_model PRIVATE -O2 -Wall -Wextra -Wno-unused-parameter)
target_link_libraries(dyndit_cuda_model PRIVATE Threads::Threads)

if(CMAKE_CUDA_COMPILER)
  set(_model_ptxas "${CMAKE_CURRENT_BINARY_DIR}/cuda_model_ptxas.txt")
  set(_model_kernels)
  foreach(k gemm_tf32 attention_tc attention_flash2 attention_flash2_bf16 attention_varlen layernorm_modulate gated_residual
            activations)
    list(APPEND _model_kernels "${PROJECT_SOURCE_DIR}/cuda-kernels/${k}.cu")
  endforeach()
  file(GLOB _model_headers CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/cuda-kernels/*.cuh")
  add_custom_command(OUTPUT "${_model_ptxas}"
    COMMAND sh "${PROJECT_SOURCE_DIR}/native/bench/cuda_model_ptxas.sh" "${CMAKE_CUDA_COMPILER}"
            "${PROJECT_SOURCE_DIR}/cuda-kernels" "${_model_ptxas}" ${_model_kernels}
    DEPENDS ${_model_kernels} ${_model_headers} "${PROJECT_SOURCE_DIR}/native/bench/cuda_model_ptxas.sh"
    COMMENT "ptxas register / shared memory usage for dyndit_cuda_model" VERBATIM)
  add_custom_target(dyndit_cuda_model_ptxas ALL DEPENDS "${_model_ptxas}")
  add_dependencies(dyndit_cuda_model dyndit_cuda_model_ptxas)
  target_compile_definitions(dyndit_cuda_model PRIVATE DD_CUDA_MODEL_PTXAS="${_model_ptxas}")
endif()
if(DYNDIT_BUILD_TESTS)
  # The tool end to end on a small GEMM (JSON fields; 2 x 2 CTAs of the multistage kernel: 2 x 256 x 256 x 64
  # = 8388608 FLOP, no bank conflicts), and a usage error exiting 2 with a message.
  add_test(NAME cuda_model_gemm_json COMMAND dyndit_cuda_model --arch a100 --gemm 256,256,64 --json)
  set_tests_properties(cuda_model_gemm_json PROPERTIES PASS_REGULAR_EXPRESSION
    "\"total_ms\": [0-9.]+,.*\"tflops\".*\"kernels\".*\"name\".*\"calls\": 1.*\"scale\".*\"counters\": {\"mma_flops\": 8388608, \"smem_wavefronts\".*\"smem_conflict_wavefronts\": 0, \"l2_bytes\".*\"dram_bytes\".*\"barriers\".*\"modeled_ms\""
    TIMEOUT 60 LABELS emu)
  add_test(NAME cuda_model_usage_error COMMAND dyndit_cuda_model --arch v100 --gemm 1,1,1)
  set_tests_properties(cuda_model_usage_error PROPERTIES WILL_FAIL TRUE TIMEOUT 30 LABELS emu)
endif()
message(STATUS "dyndit: dyndit_cuda_model ON (cost model on emulator counts)")
