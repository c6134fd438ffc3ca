#!/usr/bin/env bash
# The command-line conventions, checked against the packaged jar: exit code 0 for success, --help and
# --version; 2 for a bad command line; 1 for a failed command; no Java class names or stack traces in
# what the user reads. Exits non-zero if any check fails.
#
#   tests/cli/check-cli.sh [path/to/dyndit-all.jar]       (default: target/dyndit-all.jar)
#   DYNDIT_JAVA_OPTS="-D..." passes JVM options (the IT sets the JavaCPP cache directory).
set -u
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
jar="${1:-$root/target/dyndit-all.jar}"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
golden="$root/tests/resources/golden/dit_p2_d64_h4"
[ -f "$jar" ] || { echo "check-cli: no jar at $jar (run mvn -DskipTests package)"; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0
checks=0

# check EXPECTED_CODE 'TEXT THE OUTPUT MUST CONTAIN' ARGS...
check() {
    local want="$1" needle="$2"
    shift 2
    checks=$((checks + 1))
    # shellcheck disable=SC2086
    LD_LIBRARY_PATH= "$java" ${DYNDIT_JAVA_OPTS:-} -jar "$jar" "$@" >"$work/out" 2>"$work/err"
    local got=$?
    local why=""
    [ "$got" -eq "$want" ] || why="exit code $got, expected $want"
    if [ -n "$needle" ] && ! grep -qF -- "$needle" "$work/out" "$work/err"; then
        why="${why:+$why; }output lacks '$needle'"
    fi
    if grep -qE 'Exception|java\.|at io\.|picocli\.' "$work/out" "$work/err"; then
        why="${why:+$why; }a Java class name or stack trace in the output"
    fi
    if [ "$want" -eq 2 ] && ! grep -q '^Usage: dyndit' "$work/err"; then
        why="${why:+$why; }no usage on stderr"
    fi
    if [ -n "$why" ]; then
        failures=$((failures + 1))
        echo "FAIL: dyndit $*: $why"
        sed 's/^/  out: /' "$work/out" | head -5
        sed 's/^/  err: /' "$work/err" | head -5
    else
        echo "ok:   dyndit $* -> $got"
    fi
}

check 0 "Usage: dyndit" --help
check 0 "Usage: dyndit" -h
check 0 "dyndit " --version
check 0 "dyndit " -V
for c in demo info forward flops bench sample decode; do
    check 0 "Usage: dyndit $c" "$c" --help
done
check 0 "GMACs" flops --model=DiT-S/2 --input-size=16
check 0 "kernels:" info

sample=(sample --weights "$work/nope.pt" --labels 1 --out "$work/o.safetensors")
check 2 "missing command"
check 2 "unknown command 'frobnicate'" frobnicate
check 2 "unknown option '--bogus'" "${sample[@]}" --bogus
check 2 "missing --inputs" forward --weights w.pt
check 2 "unknown sampler 'foo'" "${sample[@]}" --sampler foo
check 2 "cuda-emu" forward --weights w.pt --inputs i --out o --device gpu
check 2 "tf32" forward --weights w.pt --inputs i --out o --precision fp16
check 2 "'3,x'" "${sample[@]}" --labels 3,x
check 2 "out of range" "${sample[@]}" --steps 10000000000

check 1 "dyndit sample: error: cannot read $work/nope.pt: no such file" "${sample[@]}"
check 1 "unknown model" flops --model DiT-Q/2
check 1 "directory $work/no/dir does not exist" forward --weights "$golden/weights.pt" --config "$golden/case.json" \
    --inputs "$golden/io.safetensors" --out "$work/no/dir/o.safetensors"
check 0 "wrote $work/f.safetensors: out [" forward --weights "$golden/weights.pt" --config "$golden/case.json" \
    --inputs "$golden/io.safetensors" --out "$work/f.safetensors"
check 0 "compute:" sample --weights "$golden/weights.safetensors" --config "$golden/case.json" --labels 1,2 --steps 2 \
    --out "$work/s.safetensors"

echo "check-cli: $((checks - failures)) of $checks checks passed"
[ "$failures" -eq 0 ]
