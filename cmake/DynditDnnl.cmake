# oneDNN from the JavaCPP dnnl jar (unpacked by Maven into target/dnnl): headers, libdnnl.so.3 and the libgomp.so.1
# it ships. libdyndit's OpenMP code resolves to that same libgomp (one SONAME, so one runtime and one thread pool in
# the process); at run time JavaCPP loads both from the jar before libdyndit.
if(NOT DNNL_ROOT)
  message(FATAL_ERROR "DNNL_ROOT is not set: run the build through Maven, or pass -DDNNL_ROOT=<dir>")
endif()
find_path(DYNDIT_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp PATHS "${DNNL_ROOT}/include" NO_DEFAULT_PATH REQUIRED)
find_file(DYNDIT_DNNL_LIB libdnnl.so.3 PATHS "${DNNL_ROOT}" NO_DEFAULT_PATH REQUIRED)
add_library(dyndit::dnnl SHARED IMPORTED)
set_target_properties(dyndit::dnnl PROPERTIES
  IMPORTED_LOCATION "${DYNDIT_DNNL_LIB}"
  IMPORTED_SONAME "libdnnl.so.3"
  INTERFACE_INCLUDE_DIRECTORIES "${DYNDIT_DNNL_INCLUDE}")

# OpenMP for libdyndit: the compiler's -fopenmp, linked against the jar's libgomp (not the compiler's copy), so the
# native tests load the same runtime the Java process does.
find_file(DYNDIT_DNNL_GOMP libgomp.so.1 PATHS "${DNNL_ROOT}" NO_DEFAULT_PATH REQUIRED)
add_library(dyndit::gomp SHARED IMPORTED)
set_target_properties(dyndit::gomp PROPERTIES IMPORTED_LOCATION "${DYNDIT_DNNL_GOMP}" IMPORTED_SONAME "libgomp.so.1")
add_library(dyndit_openmp INTERFACE)
target_compile_options(dyndit_openmp INTERFACE $<$<COMPILE_LANGUAGE:CXX>:-fopenmp>)
target_link_libraries(dyndit_openmp INTERFACE dyndit::gomp)
add_library(dyndit::openmp ALIAS dyndit_openmp)
