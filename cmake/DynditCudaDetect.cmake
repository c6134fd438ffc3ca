# nvcc lives in /usr/local/cuda/bin on these machines and may not be on PATH; point CMake at it
# before project() so check_language(CUDA) can find it. No nvcc: the CPU-only library is built.
if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX})
  find_program(DYNDIT_NVCC nvcc PATHS /usr/local/cuda/bin NO_CACHE)
  if(DYNDIT_NVCC)
    set(CMAKE_CUDA_COMPILER "${DYNDIT_NVCC}" CACHE FILEPATH "CUDA compiler")
  endif()
endif()
