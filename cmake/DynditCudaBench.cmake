# dyndit_cuda_bench: Google Benchmark binary timing the CUDA kernels of cuda-kernels/ on the GPU
# (native/bench/bench_cuda_kernels.cpp, host C++ calling the kernels' host entries). Defined only when
# the CUDA kernels are built (DYNDIT_CUDA_FOUND, from DynditCuda.cmake) and find_package(benchmark)
# succeeded; include it after both. Without a usable GPU the binary prints
# "dyndit_cuda_bench: SKIPPED: <CUDA error>" and exits 0; ctest reports the smoke entry as skipped then.
if(DYNDIT_CUDA_FOUND AND benchmark_FOUND AND TARGET dyndit_cuda_kernels)
  add_executable(dyndit_cuda_bench "${PROJECT_SOURCE_DIR}/native/bench/bench_cuda_kernels.cpp")
  target_compile_options(dyndit_cuda_bench PRIVATE -Wall -Wextra -O2)
  target_link_libraries(dyndit_cuda_bench PRIVATE dyndit_cuda_kernels CUDA::cudart_static benchmark::benchmark)

  # Google Benchmark >= 1.8 wants a unit on --benchmark_min_time ("0.01s"); 1.7 takes plain seconds.
  if(DEFINED benchmark_VERSION AND benchmark_VERSION VERSION_LESS 1.8)
    set(_dyndit_bench_min_time "0.01")
  else()
    set(_dyndit_bench_min_time "0.01s")
  endif()
  enable_testing()
  add_test(NAME cuda_bench_smoke
           COMMAND dyndit_cuda_bench --benchmark_filter=. --benchmark_min_time=${_dyndit_bench_min_time})
  # Passes on a clean exit with the benchmarks run; no GPU ("SKIPPED") reports as skipped, not passed; an
  # error inside a benchmark (SkipWithError prints "ERROR OCCURRED") fails it.
  set_tests_properties(cuda_bench_smoke PROPERTIES FAIL_REGULAR_EXPRESSION "ERROR OCCURRED"
                       SKIP_REGULAR_EXPRESSION "dyndit_cuda_bench: SKIPPED" TIMEOUT 600)
  unset(_dyndit_bench_min_time)
  message(STATUS "dyndit: dyndit_cuda_bench ON (Google Benchmark ${benchmark_VERSION})")
endif()
