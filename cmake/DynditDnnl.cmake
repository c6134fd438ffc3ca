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
