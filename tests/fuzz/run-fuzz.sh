#!/usr/bin/env bash
# Builds the fuzz targets (tests/fuzz/*_fuzz.cpp) with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, in a meson build directory of their own, and runs each on its seed
# corpus (tests/fuzz/corpus/<target>/), one target at a time, under nice.
#
#   tests/fuzz/run-fuzz.sh                      every target, FUZZ_SECONDS (default 15) each
#   tests/fuzz/run-fuzz.sh http guac_user       only these targets
#   tests/fuzz/run-fuzz.sh --runs 10000000      the long campaign: 10 M executions per target
#   tests/fuzz/run-fuzz.sh --runs 10000000 --seconds 900   ... but at most 15 minutes each
#
# Options: --runs N (executions per target), --seconds S (time per target; with --runs, a cap),
# --out DIR (logs, new corpus units, crash reproducers; default build-fuzz/out), --build-dir DIR
# (default build-fuzz), --list (print the target names). Environment: FUZZ_SECONDS, FUZZ_JOBS
# (compile jobs, default 2), CC and CXX (default clang and clang++).
#
# For each target, DIR/<target>.log is libFuzzer's output and DIR/corpus/<target>/ the units it
# added to the seeds (the seeds themselves are only read). A crash, a sanitizer report, a leak, a
# timeout (25 s for one input) or a broken invariant stops that target and leaves its reproducer
# as DIR/<target>-crash-<sha1> (or -leak-, -timeout-, -oom-); replay it with
# `BUILD-DIR/tests/fuzz/<target>_fuzz FILE`. The other targets still run; the exit status is 1 when
# any target failed. DIR/summary.tsv has one line per target: executions, seconds, corpus units
# and bytes, coverage, result.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

runs=""
seconds=""
build="$root/build-fuzz"
out=""
targets=()
all_targets=()
for src in "$here"/*_fuzz.cpp; do
  name="$(basename "$src" _fuzz.cpp)"
  all_targets+=("$name")
done

while [[ $# -gt 0 ]]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --seconds) seconds="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --build-dir) build="$2"; shift 2 ;;
    --list) printf '%s\n' "${all_targets[@]}"; exit 0 ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    -*) echo "run-fuzz: unknown option $1" >&2; exit 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ ${#targets[@]} -gt 0 ]] || targets=("${all_targets[@]}")
for t in "${targets[@]}"; do
  if [[ ! -f "$here/${t}_fuzz.cpp" ]]; then
    echo "run-fuzz: no target $t (targets: ${all_targets[*]})" >&2
    exit 2
  fi
done
if [[ -z "$runs" && -z "$seconds" ]]; then
  seconds="${FUZZ_SECONDS:-15}"
fi
out="${out:-$build/out}"

cc="${CC:-clang}"
cxx="${CXX:-clang++}"
if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run-fuzz: $cxx not found (scripts/bootstrap installs clang)" >&2
  exit 1
fi

# The fuzz build: clang, ASan+UBSan everywhere (UBSan findings abort), libFuzzer's coverage
# instrumentation in deskpod's libraries too (the targets themselves link -fsanitize=fuzzer,
# tests/fuzz/meson.build). -Dwerror=false: a new clang warning must not hide the fuzzing.
if [[ ! -f "$build/build.ninja" ]]; then
  CC="$cc" CXX="$cxx" meson setup "$build" -Dtests=true -Dbench=false -Dwerror=false \
    -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dcpp_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=undefined" >"$build.setup.log" 2>&1 || {
    cat "$build.setup.log" >&2
    echo "run-fuzz: meson setup of $build failed" >&2
    exit 1
  }
  rm -f "$build.setup.log"
fi
build_targets=()
for t in "${targets[@]}"; do
  build_targets+=("tests/fuzz/${t}_fuzz")
done
nice meson compile -C "$build" -j "${FUZZ_JOBS:-2}" "${build_targets[@]}"

mkdir -p "$out"
summary="$out/summary.tsv"
printf 'target\texecs\tseconds\tcorpus_units\tcorpus_bytes\tcoverage\tresult\n' >"$summary"
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
failed=()
for t in "${targets[@]}"; do
  work="$out/corpus/$t"
  mkdir -p "$work"
  limit=()
  [[ -n "$runs" ]] && limit+=(-runs="$runs")
  [[ -n "$seconds" ]] && limit+=(-max_total_time="$seconds")
  echo "run-fuzz: $t (${runs:+$runs runs}${runs:+${seconds:+, }}${seconds:+at most ${seconds}s})"
  start=$(date +%s)
  result=ok
  nice "$build/tests/fuzz/${t}_fuzz" "${limit[@]}" -max_len=65536 -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$out/$t-" "$work" "$here/corpus/$t" \
    >"$out/$t.log" 2>&1 || result=failed
  elapsed=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$out/$t.log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  units=$(find "$work" "$here/corpus/$t" -type f | wc -l)
  bytes=$(cat "$work"/* "$here/corpus/$t"/* 2>/dev/null | wc -c)
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "${execs:-?}" "$elapsed" "$units" "$bytes" \
    "${cov:-?}" "$result" >>"$summary"
  echo "run-fuzz: $t: ${execs:-?} execs in ${elapsed}s, corpus $units files ($bytes bytes), cov ${cov:-?}: $result"
  if [[ "$result" != ok ]]; then
    failed+=("$t")
    grep -E 'ERROR|invariant violated|SUMMARY|runtime error|Test unit written' "$out/$t.log" |
      head -20 >&2 || tail -30 "$out/$t.log" >&2
    echo "run-fuzz: $t failed; log $out/$t.log, reproducer $out/$t-*" >&2
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "run-fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
