# Per-file instruction-set flags for the CPU kernel variants; the dispatcher picks one at run time,
# so the library itself never assumes more than the x86-64 baseline.
function(dyndit_isa_flags file isa)
  if(isa STREQUAL "avx2")
    set(flags -mavx2 -mfma -mf16c)
  elseif(isa STREQUAL "avx512")
    set(flags -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx2 -mfma -mf16c -mprefer-vector-width=512)
  else()
    message(FATAL_ERROR "unknown ISA ${isa}")
  endif()
  set_source_files_properties(${file} PROPERTIES COMPILE_OPTIONS "${flags}")
endfunction()
