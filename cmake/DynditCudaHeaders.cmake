# DYNDIT_EMU_CUDA_INCLUDE: CUDA's headers (cuda_runtime.h, cuda_bf16.h, ...), all the SIMT emulator builds need
# (no nvcc, no GPU, no driver). Empty when not found.
include_guard(GLOBAL)
set(_emu_cuda_hints /usr/local/cuda/include)
if(CMAKE_CUDA_COMPILER)
  get_filename_component(_emu_nvcc_dir "${CMAKE_CUDA_COMPILER}" DIRECTORY)
  list(PREPEND _emu_cuda_hints "${_emu_nvcc_dir}/../include")
endif()
find_path(DYNDIT_EMU_CUDA_INCLUDE cuda_bf16.h HINTS ${CUDAToolkit_INCLUDE_DIRS} ${_emu_cuda_hints}
          DOC "CUDA headers used by the SIMT emulator build")
