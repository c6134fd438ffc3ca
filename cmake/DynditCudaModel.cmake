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
  foreach(k gemm_tf32 attention_tc attention_varlen layernorm_modulate gated_residual activations)
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
message(STATUS "dyndit: dyndit_cuda_model ON (cost model on emulator counts)")
