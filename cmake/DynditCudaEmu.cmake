# libdyndit_cuda_emu.so, the "cuda-emu" device: the CUDA backend's host code (native/src/cuda) and every
# kernel of cuda-kernels/ compiled by the host compiler against the SIMT emulator (cuda-kernels/simt).
# libdyndit loads it with dlopen only when the emulated device is asked for. Everything in it is hidden
# except dd_device_plugin_v1, so its cudart shim (cudaMalloc, ... as C symbols) never meets the real
# cudart linked into libdyndit. Needs CUDA's headers only (no nvcc, no GPU, no driver).
include(DynditCudaHeaders)
if(NOT DYNDIT_EMU_CUDA_INCLUDE)
  message(STATUS "dyndit: cuda-emu device OFF (no CUDA headers found)")
  return()
endif()
find_package(Threads REQUIRED)

set(_k "${PROJECT_SOURCE_DIR}/cuda-kernels")
# One wrapper per kernel file: the .cu extension would send it to nvcc; a .cpp that includes it does not.
file(GLOB _emu_cu CONFIGURE_DEPENDS "${_k}/*.cu")
set(_emu_wrappers)
foreach(cu ${_emu_cu})
  get_filename_component(stem "${cu}" NAME_WE)
  set(wrapper "${CMAKE_CURRENT_BINARY_DIR}/cuda_emu/${stem}.cpp")
  file(CONFIGURE OUTPUT "${wrapper}" CONTENT "#include \"${cu}\"\n")
  list(APPEND _emu_wrappers "${wrapper}")
endforeach()

# The emulated kernels and the emulator runtime, compiled once for the plugin and for dyndit_cuda_model
# (DynditCudaModel.cmake).
add_library(dyndit_cuda_emu_objs OBJECT
  ${_emu_wrappers}
  ${_k}/simt/emu_fiber.cpp
  ${_k}/simt/emu_block.cpp
  ${_k}/simt/emu_launch.cpp
  ${_k}/simt/emu_mem.cpp
  ${_k}/simt/emu_count.cpp
  ${_k}/simt/emu_cudart.cpp)
target_include_directories(dyndit_cuda_emu_objs PUBLIC ${_k} ${_k}/simt ${DYNDIT_EMU_CUDA_INCLUDE})
target_compile_options(dyndit_cuda_emu_objs PRIVATE -O2 -fvisibility=hidden -fvisibility-inlines-hidden
                       -Wall -Wno-unused-parameter)

add_library(dyndit_cuda_emu SHARED
  $<TARGET_OBJECTS:dyndit_cuda_emu_objs>
  ${DYNDIT_CUDA_BACKEND_SOURCES}
  native/src/cuda/cuda_runtime_glue.cpp
  native/src/cuda/cuda_emu_plugin.cpp
  native/src/core/error.cpp)
target_include_directories(dyndit_cuda_emu PRIVATE native/include ${_k} ${_k}/simt ${DYNDIT_EMU_CUDA_INCLUDE})
target_compile_definitions(dyndit_cuda_emu PRIVATE DD_CUDA_BACKEND_NAME="cuda-emu"
                           DYNDIT_CUDA_ARCHS="emulated")
# -O2: the emulated kernels are what the golden tests run; -fvisibility + the version script hide all else.
target_compile_options(dyndit_cuda_emu PRIVATE -O2 -fvisibility=hidden -fvisibility-inlines-hidden
                       -Wall -Wno-unused-parameter)
set(_emu_exports "${CMAKE_CURRENT_BINARY_DIR}/cuda_emu/exports.map")
file(CONFIGURE OUTPUT "${_emu_exports}" CONTENT "{ global: dd_device_plugin_v1; local: *; };\n")
target_link_options(dyndit_cuda_emu PRIVATE "-Wl,--version-script=${_emu_exports}" -Wl,-Bsymbolic -Wl,--no-undefined)
target_link_libraries(dyndit_cuda_emu PRIVATE Threads::Threads)
set_target_properties(dyndit_cuda_emu PROPERTIES LINK_DEPENDS "${_emu_exports}")
install(TARGETS dyndit_cuda_emu LIBRARY DESTINATION lib)
message(STATUS "dyndit: cuda-emu device ON (libdyndit_cuda_emu.so, CUDA headers ${DYNDIT_EMU_CUDA_INCLUDE})")
