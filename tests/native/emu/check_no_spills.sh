#!/bin/sh
# Compiles each kernel file for sm_80 and sm_90 with `-Xptxas -v` and fails when a kernel does not
# compile or spills registers: what the emulator cannot show about the same source.
# usage: check_no_spills.sh <nvcc> <include dir> <file.cu>...
set -u
nvcc="$1"; inc="$2"; shift 2
status=0
for f in "$@"; do
    log=$("$nvcc" -std=c++17 -I"$inc" -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
        -Xptxas -v -c "$f" -o /dev/null 2>&1)
    if [ $? -ne 0 ]; then
        echo "FAIL (compile): $f"; echo "$log"; status=1; continue
    fi
    spills=$(echo "$log" | grep -E "[1-9][0-9]* bytes spill (stores|loads)")
    if [ -n "$spills" ]; then
        echo "FAIL (spills): $f"; echo "$log"; status=1
    else
        echo "ok: $f ($(echo "$log" | grep -c 'Used [0-9]* registers') kernel/arch builds, no spills)"
    fi
done
exit $status
