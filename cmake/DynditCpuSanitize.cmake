# ASan + UBSan build of the CPU backend and its op tests (the counterpart of the emulator's emu_asan_ubsan):
# libdyndit's sources without the CUDA backend (cuda_absent.cpp instead: the CUDA host code is what the
# cuda-emu tests exercise) compiled -O1 -g -fsanitize=address,undefined into libdyndit_asan.so; the test
# executable is defined in tests/native/CMakeLists.txt. Created here, in the top directory, so the sources'
# per-file options (ISA flags, -ffp-contract=off) apply as they do to `dyndit`. Include after DynditVae.
option(DYNDIT_CPU_SANITIZE "build and run the CPU op tests under ASan+UBSan too" ON)
if(NOT DYNDIT_CPU_SANITIZE)
  return()
endif()

set(DYNDIT_SANITIZE_FLAGS -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
get_target_property(_dd_sources dyndit SOURCES)
list(FILTER _dd_sources EXCLUDE REGEX "native/src/cuda/|cuda_absent\\.cpp$")
add_library(dyndit_asan SHARED ${_dd_sources} native/src/core/cuda_absent.cpp)
target_include_directories(dyndit_asan PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/native/include)
target_compile_definitions(dyndit_asan PRIVATE DYNDIT_VERSION="${DYNDIT_VERSION}-asan")
target_compile_options(dyndit_asan PRIVATE -Wall -Wextra -Wno-unused-parameter -fvisibility=hidden -O1 -g
                       ${DYNDIT_SANITIZE_FLAGS})
target_link_options(dyndit_asan PUBLIC ${DYNDIT_SANITIZE_FLAGS})
target_link_libraries(dyndit_asan PRIVATE dyndit::openmp dyndit::dnnl ${CMAKE_DL_LIBS})
set_target_properties(dyndit_asan PROPERTIES BUILD_RPATH "$ORIGIN")
unset(_dd_sources)
