# CUDA backend: kernels from cuda-kernels/ for sm_80 and sm_90 (machine code) plus compute_90 PTX,
# cudart linked statically so the library loads on machines without a GPU driver.
include(CheckLanguage)
set(DYNDIT_CUDA_FOUND OFF)
if(DYNDIT_WITH_CUDA)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(DYNDIT_CUDA_FOUND ON)
  endif()
endif()

if(DYNDIT_CUDA_FOUND)
  enable_language(CUDA)
  find_package(CUDAToolkit REQUIRED)
  set(DYNDIT_CUDA_ARCH_LIST "80-real;90-real;90-virtual")
  file(GLOB DYNDIT_CU_SOURCES CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/cuda-kernels/*.cu")
  add_library(dyndit_cuda_kernels STATIC ${DYNDIT_CU_SOURCES})
  set_target_properties(dyndit_cuda_kernels PROPERTIES
    CUDA_ARCHITECTURES "${DYNDIT_CUDA_ARCH_LIST}"
    CUDA_RUNTIME_LIBRARY Static
    POSITION_INDEPENDENT_CODE ON
    CUDA_STANDARD 17)
  # -Xptxas -v: registers / spills of every kernel go to the build log.
  target_compile_options(dyndit_cuda_kernels PRIVATE $<$<COMPILE_LANGUAGE:CUDA>:-Xptxas=-v -lineinfo>)
  target_include_directories(dyndit_cuda_kernels PUBLIC "${PROJECT_SOURCE_DIR}/cuda-kernels")
  target_link_libraries(dyndit_cuda_kernels PUBLIC CUDA::cudart_static)

  target_sources(dyndit PRIVATE native/src/cuda/cuda_runtime_glue.cpp ${DYNDIT_CUDA_BACKEND_SOURCES})
  target_compile_definitions(dyndit PRIVATE DYNDIT_CUDA_ARCHS="sm_80 sm_90 compute_90" DYNDIT_NVTX=1)
  target_include_directories(dyndit PRIVATE ${CUDAToolkit_INCLUDE_DIRS} "${PROJECT_SOURCE_DIR}/cuda-kernels")
  target_link_libraries(dyndit PRIVATE dyndit_cuda_kernels CUDA::cudart_static)
  set_target_properties(dyndit PROPERTIES CUDA_RUNTIME_LIBRARY Static)
  message(STATUS "dyndit: CUDA backend ON (${CMAKE_CUDA_COMPILER}, archs ${DYNDIT_CUDA_ARCH_LIST})")
else()
  target_sources(dyndit PRIVATE native/src/core/cuda_absent.cpp)
  message(STATUS "dyndit: CUDA backend OFF (no nvcc)")
endif()
