#!/bin/sh
# ptxas usage (registers, static shared memory) of kernel files for sm_80 and sm_90, as dyndit_cuda_model
# reads it. usage: cuda_model_ptxas.sh <nvcc> <include dir> <output file> <file.cu>...
set -u
nvcc="$1"; inc="$2"; out="$3"; shift 3
tmp="$out.tmp"
: > "$tmp"
for f in "$@"; do
    "$nvcc" -std=c++17 -I"$inc" -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
        -Xptxas -v -c "$f" -o /dev/null 2>&1 | grep -E "Compiling entry function|Used [0-9]+ registers" >> "$tmp" \
        || { echo "cuda_model_ptxas.sh: nvcc failed on $f" >&2; rm -f "$tmp"; exit 1; }
done
mv "$tmp" "$out"
