# OpenBLAS from the JavaCPP openblas jar (unpacked by Maven into target/openblas): headers and
# libopenblas.so.0. At run time JavaCPP loads the same library from the jar before libdyndit.
if(NOT OPENBLAS_ROOT)
  message(FATAL_ERROR "OPENBLAS_ROOT is not set: run the build through Maven, or pass -DOPENBLAS_ROOT=<dir>")
endif()
find_path(DYNDIT_CBLAS_INCLUDE cblas.h PATHS "${OPENBLAS_ROOT}/include" NO_DEFAULT_PATH REQUIRED)
find_file(DYNDIT_OPENBLAS_LIB libopenblas.so.0 PATHS "${OPENBLAS_ROOT}" NO_DEFAULT_PATH REQUIRED)
add_library(dyndit::openblas SHARED IMPORTED)
set_target_properties(dyndit::openblas PROPERTIES
  IMPORTED_LOCATION "${DYNDIT_OPENBLAS_LIB}"
  IMPORTED_SONAME "libopenblas.so.0"
  INTERFACE_INCLUDE_DIRECTORIES "${DYNDIT_CBLAS_INCLUDE}")
